/**
 * Signing in to the mail provider with the national body's own OAuth client, through the
 * browser's `identity.launchWebAuthFlow` (Chromium and Firefox): the implicit grant for Google
 * "Web application" clients, or the authorization code with PKCE (RFC 7636, S256) for Microsoft
 * single-page-application registrations. The `state` parameter is checked (RFC 6749 §10.12).
 * Access tokens are kept in `storage.session` (memory only, gone when the browser closes).
 */
import type { OAuthProvider } from '../../src/brand.ts';
import type { Provider } from './queue.ts';

export interface CachedToken {
  accessToken: string;
  expiresAt: number;
}

/** Seconds of validity we require left on a cached token before using it. */
const EXPIRY_MARGIN_MS = 60_000;

export class SignInError extends Error {}

function base64url(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomString(bytes = 32): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** The PKCE S256 challenge of a verifier. */
export async function pkceChallenge(verifier: string): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
}

function sessionArea(): chrome.storage.StorageArea {
  return chrome.storage.session ?? chrome.storage.local;
}

export async function forgetToken(provider: Provider): Promise<void> {
  await sessionArea().remove(`oauth:${provider}`);
}

/** A valid access token for the provider, signing in when needed. */
export async function accessToken(provider: Provider, cfg: OAuthProvider, fetchImpl: typeof fetch): Promise<string> {
  const key = `oauth:${provider}`;
  const cached = (await sessionArea().get(key))[key] as CachedToken | undefined;
  if (cached && cached.expiresAt - EXPIRY_MARGIN_MS > Date.now()) return cached.accessToken;
  if (!cfg.clientId) throw new SignInError('no OAuth client is configured for this provider');
  const token = await signIn(cfg, fetchImpl);
  await sessionArea().set({ [key]: token });
  return token.accessToken;
}

async function signIn(cfg: OAuthProvider, fetchImpl: typeof fetch): Promise<CachedToken> {
  const redirectUri = chrome.identity.getRedirectURL();
  const state = randomString(16);
  const verifier = randomString(48);
  const url = new URL(cfg.authUrl);
  url.searchParams.set('client_id', cfg.clientId);
  url.searchParams.set('redirect_uri', redirectUri);
  url.searchParams.set('scope', cfg.scope);
  url.searchParams.set('state', state);
  url.searchParams.set('response_type', cfg.flow === 'token' ? 'token' : 'code');
  if (cfg.flow === 'code') {
    url.searchParams.set('code_challenge', await pkceChallenge(verifier));
    url.searchParams.set('code_challenge_method', 'S256');
  }
  let final: string | undefined;
  try {
    final = await chrome.identity.launchWebAuthFlow({ url: url.toString(), interactive: true });
  } catch (e) {
    throw new SignInError(`sign-in was not completed (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!final) throw new SignInError('sign-in was not completed');
  const back = new URL(final);
  const params = cfg.flow === 'token' ? new URLSearchParams(back.hash.replace(/^#/, '')) : back.searchParams;
  if (params.get('error')) throw new SignInError(`the provider refused: ${params.get('error')}`);
  if (params.get('state') !== state) throw new SignInError('the sign-in answer does not match the request (state)');
  if (cfg.flow === 'token') return tokenFrom(params.get('access_token'), params.get('expires_in'));
  const code = params.get('code');
  if (!code) throw new SignInError('the provider sent no authorization code');
  const res = await fetchImpl(cfg.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      client_id: cfg.clientId,
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
      code_verifier: verifier,
      scope: cfg.scope,
    }).toString(),
  }).catch((e: unknown) => {
    throw new SignInError(`the token endpoint cannot be reached (${e instanceof Error ? e.message : String(e)})`);
  });
  const body = (await res.json().catch(() => null)) as { access_token?: unknown; expires_in?: unknown } | null;
  if (!res.ok || !body) throw new SignInError(`the token endpoint answered HTTP ${res.status}`);
  return tokenFrom(body.access_token, body.expires_in);
}

function tokenFrom(accessTokenValue: unknown, expiresIn: unknown): CachedToken {
  if (typeof accessTokenValue !== 'string' || accessTokenValue.length === 0)
    throw new SignInError('the provider sent no access token');
  const seconds = Number(expiresIn);
  return {
    accessToken: accessTokenValue,
    expiresAt: Date.now() + (Number.isFinite(seconds) && seconds > 0 ? seconds : 3600) * 1000,
  };
}
