import * as backup from 'aws-cdk-lib/aws-backup';
import { Construct } from 'constructs';
import { acknowledgeNagFindings } from './nag';

/**
 * Selects `resources` into the user's AWS Backup plan, with the role AWS Backup documents as its
 * default (its AWS-maintained backup policy, acknowledged: the recovery points it creates and
 * tags are named by AWS Backup at run time).
 */
export function selectIntoBackupPlan(
  scope: Construct, id: string, plan: backup.IBackupPlan, resources: backup.BackupResource[],
): backup.BackupSelection {
  const selection = new backup.BackupSelection(scope, id, { backupPlan: plan, resources });
  acknowledgeNagFindings(selection.node.findChild('Role'), [{
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup]',
    reason: 'AWS Backup\'s AWS-maintained backup policy (the role AWS Backup documents as its default): it creates, tags and copies the recovery points of the selected resources, whose names AWS Backup chooses at run time, and AWS keeps it in step with what AWS Backup does. The role is assumed by backup.amazonaws.com only and exists only with a backupPlan.',
  }]);
  return selection;
}
