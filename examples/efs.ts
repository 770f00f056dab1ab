import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { AlarmTopic, FileStorageService } from '../lib';

/**
 * The file storage service with its defaults: IAM-authorized API, reference file handler in an
 * isolated VPC (no NAT), encrypted elastic-throughput EFS through an access point, alarms to an
 * encrypted topic, and a dashboard.
 */
export class FileStorageExampleStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    const alarms = new AlarmTopic(this, 'Alarms');
    const files = new FileStorageService(this, 'Files', {
      alarmTopic: alarms.topic,
      dashboard: true,
    });
    new CfnOutput(this, 'FilesUrl', { value: files.url, description: 'File collection URL (IAM/SigV4-signed requests)' });
    new CfnOutput(this, 'FileSystemId', { value: files.fileSystem.fileSystemId });
    new CfnOutput(this, 'AlarmTopicArn', { value: alarms.topic.topicArn });
  }
}
