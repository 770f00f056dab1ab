/**
 * Start-up: read `/config.json`, finish a sign-in redirect when on the callback path, then show
 * the signed-in or signed-out screen.
 */
import { App, SESSION_EXPIRED_MESSAGE } from './app';
import { Auth } from './auth';
import { loadConfig } from './config';
import { byId, el, replaceChildren } from './dom';

async function start(): Promise<void> {
  const config = await loadConfig();
  const auth = new Auth(config.auth);
  const app = new App(config, auth);

  if (auth.isSignInCallback()) {
    let draft;
    try {
      draft = (await auth.completeSignIn()).draft;
    } catch (err) {
      // A reused or forged callback URL, or an error from the sign-in service (?error=...).
      window.history.replaceState(null, '', '/');
      app.showSignedOut(`Sign-in did not complete: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    // The code and state must not stay in the address bar or the history.
    window.history.replaceState(null, '', '/');
    const session = await auth.restoreSession();
    if (typeof session === 'object') app.showSignedIn(session.user, draft);
    else app.showSignedOut('Sign-in did not complete: no session was created');
    return;
  }

  const session = await auth.restoreSession();
  if (typeof session === 'object') app.showSignedIn(session.user);
  else app.showSignedOut(session === 'expired' ? SESSION_EXPIRED_MESSAGE : undefined);
}

start().catch((err: unknown) => {
  // Nothing else could render (config.json missing or malformed): say so and offer a reload.
  const reload = el('button', { type: 'button', class: 'primary' }, 'Reload');
  reload.addEventListener('click', () => window.location.reload());
  replaceChildren(byId('main'), el('h1', {}, 'Items'));
  replaceChildren(byId('alert'), el('p', {}, `The application could not start: ${err instanceof Error ? err.message : String(err)}`), reload);
});
