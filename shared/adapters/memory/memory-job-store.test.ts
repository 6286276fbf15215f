import { describeJobStoreContract } from '../../ports/job-store.contract.js';
import { MemoryJobStore } from './memory-job-store.js';

describeJobStoreContract('MemoryJobStore', () => new MemoryJobStore());
