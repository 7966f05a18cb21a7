import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair } from "jose";
import Provider from "oidc-provider";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SiteUnderTest, screenshot, seriousViolations, startSite } from "./harness.js";

/**
 * OIDC sign-in against a real (tiny, local) OpenID provider: oidc-provider with its development login
 * form, a public client with PKCE and JWT access tokens for the API's audience carrying aat roles.
 */
describe("OIDC sign-in in a real browser", () => {
  let site: SiteUnderTest;
  let idp: Server;
  let issuer: string;
  let page: Page;

  beforeAll(async () => {
    idp = createServer();
    idp.listen(0, "127.0.0.1");
    await once(idp, "listening");
    issuer = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;
    site = await startSite({ auth: { mode: "oidc", oidc: { issuer, audience: "urn:aat:api" } } });
    const { privateKey } = await generateKeyPair("RS256", { extractable: true });
    const provider = new Provider(issuer, {
      clients: [
        {
          client_id: "aat-site",
          token_endpoint_auth_method: "none",
          redirect_uris: [`${site.url}/signin/`],
          grant_types: ["authorization_code", "refresh_token"],
          response_types: ["code"],
        },
      ],
      jwks: { keys: [{ ...(await exportJWK(privateKey)), alg: "RS256", use: "sig", kid: "e2e" }] },
      cookies: { keys: ["e2e-cookie-key"] },
      pkce: { required: () => true },
      // Refresh tokens for this public client without the offline_access dance, so the site's renewal
      // of short-lived access tokens can be seen.
      issueRefreshToken: (_ctx, client) => client.grantTypeAllowed("refresh_token"),
      clientBasedCORS: () => true,
      findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub, name: sub }) }),
      extraTokenClaims: () => ({ roles: ["developer", "responder"] }),
      features: {
        devInteractions: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => "urn:aat:api",
          useGrantedResource: () => true,
          getResourceServerInfo: () => ({
            scope: "openid profile email",
            audience: "urn:aat:api",
            accessTokenFormat: "jwt",
            // Short-lived, so the test sees the site renew it.
            accessTokenTTL: 6,
            jwt: { sign: { alg: "RS256" } },
          }),
        },
      },
    });
    idp.on("request", provider.callback());
    page = await site.browser.newPage();
    // The same build, told by its /config.json to offer OIDC.
    await page.route("**/config.json", (route) =>
      route.fulfill({
        contentType: "application/json",
        body: JSON.stringify({ apiBaseUrl: "", auth: { mode: "oidc", issuer, clientId: "aat-site" } }),
      }),
    );
  }, 120_000);

  afterAll(async () => {
    await site?.stop();
    idp?.close();
  });

  it("signs in through the identity provider with PKCE and calls the API with its token", async () => {
    await page.goto(`${site.url}/runs/`);
    const sso = page.getByRole("button", { name: "Sign in with your identity provider" });
    await sso.waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, "sign-in-oidc");
    await sso.click();
    // oidc-provider's development login form, then its consent screen.
    await page.waitForURL((u) => u.href.startsWith(issuer));
    await page.locator('input[name="login"]').fill("alice");
    await page.locator('input[name="password"]').fill("any");
    await page.locator('button[type="submit"]').click();
    // Its consent screen comes when the grant lacks scopes; either way the browser ends back on the site.
    const consent = page.getByRole("button", { name: /continue|authorize/i });
    await Promise.race([page.waitForURL(`${site.url}/**`), consent.waitFor()]);
    if (page.url().startsWith(issuer)) await consent.click();
    await page.waitForURL(`${site.url}/runs/`);
    await page.getByRole("heading", { name: "Runs", exact: true }).waitFor();
    // The page reads the API with the token: the plan picker fills from GET /v1/plans.
    await page.locator('option[value="automation.hello"]').first().waitFor({ state: "attached" });
    const token = (await page.evaluate("sessionStorage.getItem('aat.apiKey')")) as string;
    expect(token.split(".")).toHaveLength(3);
    const me = await fetch(`${site.url}/v1/plans`, { headers: { authorization: `Bearer ${token}` } });
    expect(me.status).toBe(200);
  });

  it("renews the short-lived access token with its refresh token, and signs out with a reason when refused", async () => {
    const before = (await page.evaluate("sessionStorage.getItem('aat.apiKey')")) as string;
    const tokens = JSON.parse((await page.evaluate("sessionStorage.getItem('aat.oidc.tokens')")) as string);
    expect(tokens.refreshToken).toEqual(expect.any(String));
    // Past the token's expiry (6 s), the next API call renews it first and succeeds with the new one.
    await page.waitForTimeout(Math.max(0, tokens.expiresAt - Date.now()) + 500);
    await page.reload();
    await page.locator('option[value="automation.hello"]').first().waitFor({ state: "attached" });
    const after = (await page.evaluate("sessionStorage.getItem('aat.apiKey')")) as string;
    expect(after).not.toBe(before);
    const renewed = await fetch(`${site.url}/v1/plans`, { headers: { authorization: `Bearer ${after}` } });
    expect(renewed.status).toBe(200);

    // A refresh token the provider refuses ends the session: the sign-in form says why.
    await page.evaluate(
      `sessionStorage.setItem('aat.oidc.tokens', JSON.stringify({ refreshToken: 'revoked', expiresAt: 0, lifetimeMs: 6000 }))`,
    );
    await page.reload();
    await page.getByText("Your sign-in expired: sign in again.").waitFor();
    expect(await page.evaluate("sessionStorage.getItem('aat.apiKey')")).toBeNull();
  });

  it("says why when the provider refuses the sign-in", async () => {
    await page.goto(`${site.url}/signin/?error=access_denied&error_description=User%20cancelled`);
    await page.getByText("The identity provider refused the sign-in: User cancelled").waitFor();
  });
});
