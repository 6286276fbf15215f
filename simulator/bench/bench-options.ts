import { parseArgs } from 'node:util';

/** What `npm run bench -- …` asked for. */
export interface BenchOptions {
  readonly durationS: number;
  readonly warmupS: number;
  readonly levels: readonly number[];
  readonly openStreams: number;
  readonly quick: boolean;
  /** Only the stream rows with each feature on and off (metering, stream recovery): a minute, not ten. */
  readonly features: boolean;
  /** Only the in-process stream rows (CPU per stream with stream recovery / metering on and off). */
  readonly streamCpu: boolean;
  /** Another build to run beside this one: a `dist` folder, a checkout with one, or a git revision. */
  readonly compare?: string;
}

/** Parses the bench's command line; throws on an unknown option or a combination that measures nothing. */
export function benchOptions(args: readonly string[] = process.argv.slice(2)): BenchOptions {
  const { values } = parseArgs({
    args: [...args],
    options: {
      duration: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '1' },
      connections: { type: 'string', default: '1,50,200' },
      streams: { type: 'string', default: '1000' },
      quick: { type: 'boolean', default: false },
      features: { type: 'boolean', default: false },
      'stream-cpu': { type: 'boolean', default: false },
      compare: { type: 'string' },
    },
  });
  if (values.compare !== undefined && (values.features || values['stream-cpu'])) {
    throw new Error('--compare runs the load rows of two builds; it does not combine with --features or --stream-cpu');
  }
  return {
    durationS: values.quick ? 2 : Number(values.duration),
    warmupS: values.quick ? 1 : Number(values.warmup),
    levels: values.connections.split(',').map(Number),
    openStreams: Number(values.streams),
    quick: values.quick,
    features: values.features,
    streamCpu: values['stream-cpu'],
    ...(values.compare === undefined ? {} : { compare: values.compare }),
  };
}
