import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { addExampleStacks } from '../examples';

// aws-cdk-lib's built-in CloudFormation validation took 7 s of this app's 12 s synth, and in a
// synth it only warns. `npm test` runs it on these same stacks, strict (test/examples), and
// cfn-lint besides; `CDK_VALIDATION=true npx cdk synth` runs it here too.
process.env.CDK_VALIDATION ??= 'false';

const app = new App();
addExampleStacks(app);
// Any unacknowledged finding of either pack fails `cdk synth`.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
app.synth();
