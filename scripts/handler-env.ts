/**
 * The smallest configuration each reference handler accepts at cold start (validated there);
 * endpoints point at loopback only. The bundle test and the benchmark import every bundle with it,
 * and the bundle test fails for an entry point missing here.
 */
export const HANDLER_IMPORT_ENV: Record<string, Record<string, string>> = {
  'rest-api/api': { TABLE_NAME: 'bundle-test' },
  'rds-proxy/api': { DB_HOST: '127.0.0.1', DB_NAME: 'bundle_test', DB_USER: 'bundle_test', DB_IAM_AUTH: 'false', DB_TLS: 'disable' },
  'rds-proxy/migrate': { DB_HOST: '127.0.0.1', DB_NAME: 'bundle_test', DB_USER: 'bundle_test', DB_IAM_AUTH: 'false', DB_TLS: 'disable', MIGRATIONS_DIR: '/var/task/migrations' },
  'efs/files': { MOUNT_PATH: '/tmp' },
  'periodic-job/poller': { TABLE_NAME: 'bundle-test', JOB_NAME: 'bundle-test', SOURCE_URL: 'http://127.0.0.1:9/items' },
  'stream-processing/processor': { TABLE_NAME: 'bundle-test', REJECTED_QUEUE_URL: 'http://127.0.0.1:9/000000000000/rejected' },
  'fan-out/publisher': { TOPIC_ARN: 'arn:aws:sns:us-east-1:000000000000:orders' },
  'fan-out/audit-consumer': { TABLE_NAME: 'bundle-test' },
  'fan-out/high-value-consumer': { TABLE_NAME: 'bundle-test' },
  'fan-out/projection-consumer': { TABLE_NAME: 'bundle-test' },
  'fan-out/redrive': {
    REDRIVE_TARGETS: JSON.stringify({ audit: { deadLetterQueueArn: 'arn:aws:sqs:us-east-1:000000000000:dlq', sourceQueueArn: 'arn:aws:sqs:us-east-1:000000000000:q' } }),
  },
  'event-driven/publisher': { EVENT_BUS_NAME: 'bundle-test', EVENT_SOURCE: 'bundle.test', ENTITY_NAME: 'item' },
  'event-driven/projection-consumer': { TABLE_NAME: 'bundle-test' },
  'saga/inventory': { TABLE_NAME: 'bundle-test' },
  'saga/payment': { TABLE_NAME: 'bundle-test' },
  'saga/start': { TABLE_NAME: 'bundle-test', STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:000000000000:stateMachine:bundle-test' },
  'saga/callback': {},
  'canary/pre-traffic': { TARGET_VERSION_ARN: 'arn:aws:lambda:us-east-1:000000000000:function:bundle-test:1' },
  'canary/post-traffic': { FUNCTION_NAME: 'bundle-test', ALIAS_NAME: 'live', TARGET_VERSION: '1' },
};
