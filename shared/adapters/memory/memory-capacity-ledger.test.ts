import { describeCapacityLedgerContract } from '../../ports/capacity-ledger.contract.js';
import { MemoryCapacityLedger } from './memory-capacity-ledger.js';

describeCapacityLedgerContract('MemoryCapacityLedger', () => new MemoryCapacityLedger(), { appliesBeforeCommit: true });
