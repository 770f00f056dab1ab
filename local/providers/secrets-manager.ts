/**
 * The template's Secrets Manager secrets in the local engine. A secret's value comes from, in
 * order: the `--secrets` JSON file or a `LOCAL_SECRET_<NAME>` environment variable (by secret name,
 * then logical id), the template's `SecretString`, or a value generated from its
 * `GenerateSecretString` as Secrets Manager would. Rotation is not emulated.
 */
import { localSecretValue, secretValuesFrom, startLocalSecretsManager, type GenerateSecretString } from '../engines/secrets-manager';
import type { Provider, RunContext } from '../provider';

export class SecretsManagerProvider implements Provider {
  public readonly name = 'Secrets Manager';

  constructor(private readonly options: { secretsFile?: string; env?: NodeJS.ProcessEnv }) {}

  public async prepare(context: RunContext): Promise<void> {
    const { template } = context;
    const secrets = template.resources('AWS::SecretsManager::Secret');
    if (secrets.length === 0) return;
    const values = secretValuesFrom({ file: this.options.secretsFile, env: this.options.env ?? process.env });
    const engine = await startLocalSecretsManager();
    context.onStop(() => engine.stop());
    context.endpoint('SECRETS_MANAGER', engine.endpoint);
    for (const [id] of secrets) {
      const props = template.properties(id);
      const name = template.physicalName(id);
      const local = localSecretValue(values, { name, logicalId: id });
      const fromTemplate = typeof props.SecretString === 'string' ? props.SecretString : undefined;
      const generate = local === undefined && fromTemplate === undefined && props.GenerateSecretString !== undefined
        ? { template: props.GenerateSecretString as GenerateSecretString }
        : undefined;
      const { arn } = engine.createSecret({ name, value: local ?? fromTemplate, generate });
      template.bind(id, { ref: arn, attributes: { Id: arn } });
      const origin = local !== undefined ? 'local value' : fromTemplate !== undefined ? 'template value' : generate !== undefined ? 'generated' : 'no value';
      context.report(`secret   ${name} (${origin})`);
      if (local === undefined && fromTemplate === undefined && generate === undefined) {
        context.notEmulated(`secret ${name} has no value: give it one with --secrets <file> or LOCAL_SECRET_${id.replace(/[^A-Za-z0-9]+/g, '_').toUpperCase()}`);
      }
    }
    if (template.resources('AWS::SecretsManager::RotationSchedule').length > 0) context.notEmulated('secret rotation');
    context.report(`Secrets Manager ${engine.endpoint}`);
  }
}
