import { Duration } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { InvalidPropsError } from './errors';
import { NagAcknowledgement } from './nag';

/** How an API authorizes its callers: the kind of an `ApiAuthorization`. */
export enum ApiAuthorizationKind {
  /** AWS IAM (SigV4). */
  IAM = 'iam',
  /** A Cognito user pool authorizer. */
  COGNITO = 'cognito',
  /** A Lambda authorizer given a bearer token. */
  LAMBDA_TOKEN = 'lambda-token',
  /** A Lambda authorizer given the request's identity sources. */
  LAMBDA_REQUEST = 'lambda-request',
  /** No authorization. */
  NONE = 'none',
}

/**
 * What an `ApiAuthorization` contributes to every method.
 * @internal
 */
export interface ApiAuthorizationConfig {
  readonly authorizationType: apigw.AuthorizationType;
  /** @default - none (IAM or no authorization) */
  readonly authorizer?: apigw.IAuthorizer;
  /** @default - none */
  readonly authorizationScopes?: string[];
  /** Findings this kind of authorization makes inapplicable, acknowledged on each method. */
  readonly nagAcknowledgements: NagAcknowledgement[];
}

export interface CognitoAuthorizationOptions {
  readonly userPools: cognito.IUserPool[];
  /** OAuth scopes a token must carry (access tokens); with none, ID tokens are accepted. @default - none */
  readonly scopes?: string[];
  /** @default Duration.minutes(5) */
  readonly resultsCacheTtl?: Duration;
}

export interface LambdaTokenAuthorizationOptions {
  readonly handler: lambda.IFunction;
  /** @default 'method.request.header.Authorization' */
  readonly identitySource?: string;
  /** @default - no validation */
  readonly validationRegex?: string;
  /** @default Duration.minutes(5) */
  readonly resultsCacheTtl?: Duration;
}

export interface LambdaRequestAuthorizationOptions {
  readonly handler: lambda.IFunction;
  /** e.g. `apigw.IdentitySource.header('Authorization')` */
  readonly identitySources: string[];
  /** @default Duration.minutes(5) */
  readonly resultsCacheTtl?: Duration;
}

const NOT_COGNITO = (how: string): NagAcknowledgement => ({
  id: 'AwsSolutions-COG4',
  reason: `Methods are authorized with ${how}, chosen through the construct's authorization prop; a Cognito authorizer would be a second, conflicting mechanism.`,
});

/**
 * How callers are authorized. IAM (SigV4) is the default; opting out needs `ApiAuthorization.none()`,
 * and then the app itself owns the cdk-nag findings that follow.
 */
export abstract class ApiAuthorization {
  /** AWS IAM (SigV4): callers need `execute-api:Invoke` on the method; see `grantInvoke`. */
  public static iam(): ApiAuthorization {
    return new (class extends ApiAuthorization {
      public readonly kind = ApiAuthorizationKind.IAM;
      public _bind(): ApiAuthorizationConfig {
        return { authorizationType: apigw.AuthorizationType.IAM, nagAcknowledgements: [NOT_COGNITO('AWS IAM (SigV4)')] };
      }
    })();
  }

  /** A Cognito user pool authorizer, optionally requiring OAuth scopes. */
  public static cognito(options: CognitoAuthorizationOptions): ApiAuthorization {
    if (options.userPools.length === 0) {
      throw new InvalidPropsError('ApiAuthorization.cognito', 'userPools must name at least one user pool, got none');
    }
    return new (class extends ApiAuthorization {
      public readonly kind = ApiAuthorizationKind.COGNITO;
      public _bind(scope: Construct): ApiAuthorizationConfig {
        const authorizer = new apigw.CognitoUserPoolsAuthorizer(scope, 'CognitoAuthorizer', {
          cognitoUserPools: options.userPools,
          resultsCacheTtl: options.resultsCacheTtl ?? Duration.minutes(5),
        });
        return {
          authorizationType: apigw.AuthorizationType.COGNITO,
          authorizer,
          authorizationScopes: options.scopes,
          nagAcknowledgements: [],
        };
      }
    })();
  }

  /** A Lambda authorizer that receives a bearer token. */
  public static lambdaToken(options: LambdaTokenAuthorizationOptions): ApiAuthorization {
    return new (class extends ApiAuthorization {
      public readonly kind = ApiAuthorizationKind.LAMBDA_TOKEN;
      public _bind(scope: Construct): ApiAuthorizationConfig {
        const authorizer = new apigw.TokenAuthorizer(scope, 'TokenAuthorizer', {
          handler: options.handler,
          identitySource: options.identitySource,
          validationRegex: options.validationRegex,
          resultsCacheTtl: options.resultsCacheTtl ?? Duration.minutes(5),
        });
        return { authorizationType: apigw.AuthorizationType.CUSTOM, authorizer, nagAcknowledgements: [NOT_COGNITO('a Lambda token authorizer')] };
      }
    })();
  }

  /** A Lambda authorizer that receives the request's identity sources (headers, query, context). */
  public static lambdaRequest(options: LambdaRequestAuthorizationOptions): ApiAuthorization {
    if (options.identitySources.length === 0) {
      throw new InvalidPropsError('ApiAuthorization.lambdaRequest', 'identitySources must name at least one source, e.g. IdentitySource.header(\'Authorization\'), got none');
    }
    return new (class extends ApiAuthorization {
      public readonly kind = ApiAuthorizationKind.LAMBDA_REQUEST;
      public _bind(scope: Construct): ApiAuthorizationConfig {
        const authorizer = new apigw.RequestAuthorizer(scope, 'RequestAuthorizer', {
          handler: options.handler,
          identitySources: options.identitySources,
          resultsCacheTtl: options.resultsCacheTtl ?? Duration.minutes(5),
        });
        return { authorizationType: apigw.AuthorizationType.CUSTOM, authorizer, nagAcknowledgements: [NOT_COGNITO('a Lambda request authorizer')] };
      }
    })();
  }

  /**
   * No authorization: anyone who can reach the endpoint can call it. An explicit opt-out;
   * cdk-nag then reports AwsSolutions-APIG4 and AwsSolutions-COG4 for the app to acknowledge.
   */
  public static none(): ApiAuthorization {
    return new (class extends ApiAuthorization {
      public readonly kind = ApiAuthorizationKind.NONE;
      public _bind(): ApiAuthorizationConfig {
        return { authorizationType: apigw.AuthorizationType.NONE, nagAcknowledgements: [] };
      }
    })();
  }

  /** Which kind of authorization this is. */
  public abstract readonly kind: ApiAuthorizationKind;

  /**
   * Creates what the authorization needs (an authorizer) under `scope`; called once per API.
   * @internal
   */
  public abstract _bind(scope: Construct): ApiAuthorizationConfig;
}
