import { Token } from 'aws-cdk-lib';
import { InvalidPropsError } from './errors';

/** Where a WAFv2 web ACL is used: a CloudFront distribution, or a regional resource (an API stage). */
export type WebAclScope = 'CLOUDFRONT' | 'REGIONAL';

const WEB_ACL_ARN = /^arn:aws[a-z-]*:wafv2:([a-z0-9-]+):\d{12}:(global|regional)\/webacl\/[^/]+\/[^/]+$/;

/**
 * Fails at synth for a web ACL ARN that the association would refuse at deploy time: not a WAFv2
 * web ACL, the wrong scope (CloudFront takes only `global` ACLs, which live in us-east-1), or a
 * regional ACL of another region than the stack's. Unresolved values pass.
 */
export function assertWebAclArn(construct: string, prop: string, arn: string | undefined, scope: WebAclScope, stackRegion?: string): void {
  if (arn === undefined || Token.isUnresolved(arn)) return;
  const match = WEB_ACL_ARN.exec(arn);
  const expected = scope === 'CLOUDFRONT'
    ? 'a WAFv2 web ACL of scope CLOUDFRONT (arn:aws:wafv2:us-east-1:<account>:global/webacl/<name>/<id>)'
    : 'a WAFv2 web ACL of scope REGIONAL (arn:aws:wafv2:<region>:<account>:regional/webacl/<name>/<id>)';
  if (match === null) throw new InvalidPropsError(construct, `${prop} must be ${expected}, got '${arn}'`);
  const [, region, kind] = match;
  if (scope === 'CLOUDFRONT' && (kind !== 'global' || region !== 'us-east-1')) {
    throw new InvalidPropsError(construct, `${prop} must be ${expected}: CloudFront uses only those, got '${arn}'`);
  }
  if (scope === 'REGIONAL') {
    if (kind !== 'regional') throw new InvalidPropsError(construct, `${prop} must be ${expected}: a CLOUDFRONT-scope ACL cannot protect an API stage, got '${arn}'`);
    if (stackRegion !== undefined && !Token.isUnresolved(stackRegion) && region !== stackRegion) {
      throw new InvalidPropsError(construct, `${prop} must be a web ACL in the stack's region ${stackRegion}, got one in ${region}`);
    }
  }
}
