// The launcher is shared with the benchmarks, which may not import from test/: one copy, in bench/support.
export * from '../../bench/support/rabbitmq-server';
