import { Duration } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { mergeProps } from '../core/merge';
import { acknowledgeNagFindings } from '../core/nag';

/** The user pool settings of `WebApplicationProps`. */
export interface WebAppUserPoolSettings {
  readonly selfSignUpEnabled?: boolean;
  readonly mfa?: cognito.Mfa;
  readonly featurePlan?: cognito.FeaturePlan;
  readonly passwordPolicy?: cognito.PasswordPolicy;
  readonly userPoolProps?: cognito.UserPoolProps;
}

/** Where the SPA completes the sign-in; an SPA route, served by the fallback function. */
export const REDIRECT_PATH = '/auth/callback';
export const POST_LOGOUT_PATH = '/';

/**
 * The user pool (id `UserPool`): email sign-in, administrators create users unless self sign-up
 * is on, optional TOTP MFA, a strong password policy, deletion protection.
 */
export function createWebAppUserPool(scope: Construct, props: WebAppUserPoolSettings): cognito.UserPool {
  const mfa = props.mfa ?? cognito.Mfa.OPTIONAL;
  const featurePlan = props.featurePlan ?? cognito.FeaturePlan.ESSENTIALS;
  const pool = new cognito.UserPool(scope, 'UserPool', mergeProps<cognito.UserPoolProps>({
    signInAliases: { email: true },
    signInCaseSensitive: false,
    autoVerify: { email: true },
    keepOriginal: { email: true },
    standardAttributes: { email: { required: true, mutable: true } },
    accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
    deletionProtection: true,
    ...(featurePlan === cognito.FeaturePlan.PLUS ? { standardThreatProtectionMode: cognito.StandardThreatProtectionMode.FULL_FUNCTION } : {}),
    userInvitation: {
      emailSubject: 'Your account',
      emailBody: 'Your username is {username} and your temporary password is {####}',
    },
  }, props.userPoolProps, {
    selfSignUpEnabled: props.selfSignUpEnabled ?? false,
    featurePlan,
    mfa,
    mfaSecondFactor: mfa === cognito.Mfa.OFF ? undefined : { otp: true, sms: false },
    passwordPolicy: props.passwordPolicy ?? {
      minLength: 12,
      requireLowercase: true,
      requireUppercase: true,
      requireDigits: true,
      requireSymbols: true,
      tempPasswordValidity: Duration.days(3),
    },
  }));
  if (featurePlan !== cognito.FeaturePlan.PLUS) {
    acknowledgeNagFindings(pool, [{
      id: 'AwsSolutions-COG8',
      reason: 'The feature plan is a prop (featurePlan): ESSENTIALS by default for cost; PLUS turns on threat protection (full function), which this construct then enables.',
    }]);
  }
  if (mfa !== cognito.Mfa.REQUIRED) {
    acknowledgeNagFindings(pool, [{
      id: 'AwsSolutions-COG2',
      reason: 'MFA is a prop (mfa); the default OPTIONAL lets each user enrol an authenticator app, REQUIRED enforces it for everyone.',
    }]);
  }
  return pool;
}

/**
 * The public app client of the SPA (id `WebClient`): authorization code + PKCE, callbacks on each
 * site origin, and no sign-in flow of the user pool API unless `authFlows` asks for one.
 */
export function addWebAppClient(
  userPool: cognito.UserPool, resourceServer: cognito.IUserPoolResourceServer, apiScope: cognito.ResourceServerScope, siteOrigins: string[],
  authFlows?: cognito.AuthFlow,
): cognito.UserPoolClient {
  const client = userPool.addClient('WebClient', {
    generateSecret: false,
    authFlows,
    oAuth: {
      flows: { authorizationCodeGrant: true },
      scopes: [
        cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE,
        cognito.OAuthScope.resourceServer(resourceServer, apiScope),
      ],
      callbackUrls: siteOrigins.map((origin) => `${origin}${REDIRECT_PATH}`),
      logoutUrls: siteOrigins.map((origin) => `${origin}${POST_LOGOUT_PATH}`),
    },
    supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
    preventUserExistenceErrors: true,
    enableTokenRevocation: true,
    accessTokenValidity: Duration.hours(1),
    idTokenValidity: Duration.hours(1),
    refreshTokenValidity: Duration.hours(12),
  });
  if (!Object.values(authFlows ?? {}).some((on) => on === true)) {
    // Without ExplicitAuthFlows Cognito allows SRP and custom sign-in through its API; managed login
    // needs neither, so the client allows only the refresh of tokens it issued.
    (client.node.defaultChild as cognito.CfnUserPoolClient).explicitAuthFlows = ['ALLOW_REFRESH_TOKEN_AUTH'];
  }
  return client;
}
