export * from './core/alarm-topic';
export * from './core/nag';
export * from './core/pattern-props';
export * from './core/secure-rest-api';
export * from './rest-api';
export * from './stream-processing';
export * from './periodic-job';
export * from './fan-out';
