using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Primitives;
using Microsoft.IdentityModel.Tokens;

namespace Marketplace.Emulator.Identity;

/// <summary>
/// The slice of Entra ID the portal needs: OpenID metadata (v1 and v2), JWKS, the token endpoint (client credentials,
/// authorization code, refresh token), a demo sign-in page, sign-out, and MSAL's instance discovery answered locally.
/// Served on both endpoints; the metadata sends browsers to the http endpoint (no certificate warning) and back-channel
/// callers to https (MSAL refuses http authorities — docs/decisions/0003-emulator-https-identity.md).
/// </summary>
internal static class IdentityEndpoints
{
    private static readonly TimeSpan CodeLifetime = TimeSpan.FromMinutes(10);

    public static void MapIdentityEndpoints(this IEndpointRouteBuilder app, EmulatorOptions options, EmulatorTokens tokens, EmulatorAddresses addresses, TimeProvider time)
    {
        var codes = new ConcurrentDictionary<string, IssuedCode>(StringComparer.Ordinal);
        var refreshTokens = new ConcurrentDictionary<string, IssuedCode>(StringComparer.Ordinal);

        app.MapGet("/{tenant}/v2.0/.well-known/openid-configuration", (string tenant) => Results.Json(Metadata(tenant, v2: true)));
        app.MapGet("/{tenant}/.well-known/openid-configuration", (string tenant) => Results.Json(Metadata(tenant, v2: false)));
        app.MapGet("/{tenant}/discovery/v2.0/keys", Keys);
        app.MapGet("/{tenant}/discovery/keys", Keys);
        app.MapGet("/{tenant}/discovery/instance", InstanceDiscovery);

        app.MapPost("/{tenant}/oauth2/v2.0/token", (string tenant, HttpRequest request) => TokenAsync(tenant, request, v2: true));
        app.MapPost("/{tenant}/oauth2/token", (string tenant, HttpRequest request) => TokenAsync(tenant, request, v2: false));

        app.MapGet("/{tenant}/oauth2/v2.0/authorize", (string tenant, HttpRequest request) => SignInPage.Render(tenant, request.Query, options));
        app.MapGet("/{tenant}/oauth2/authorize", (string tenant, HttpRequest request) => SignInPage.Render(tenant, request.Query, options));
        app.MapPost("/{tenant}/oauth2/v2.0/authorize", (string tenant, HttpRequest request) => SignedInAsync(request));
        app.MapPost("/{tenant}/oauth2/authorize", (string tenant, HttpRequest request) => SignedInAsync(request));

        app.MapGet("/{tenant}/oauth2/v2.0/logout", SignOut);
        app.MapGet("/{tenant}/oauth2/logout", SignOut);

        IResult Keys() => Results.Json(new { keys = new[] { EmulatorKeys.ToJwk(tokens.SigningKey) } });

        Dictionary<string, object?> Metadata(string tenant, bool v2)
        {
            var https = addresses.HttpsBase.ToString();
            var http = addresses.HttpBase.ToString();
            // For organizations/common Entra publishes an issuer template; validators substitute the token's tid.
            var issuerTenant = tenant is "organizations" or "common" or "consumers" ? "{tenantid}" : tenant;
            var oauth = v2 ? "oauth2/v2.0" : "oauth2";
            return new Dictionary<string, object?>
            {
                ["issuer"] = v2 ? $"{https}{issuerTenant}/v2.0" : $"{https}{issuerTenant}/",
                ["authorization_endpoint"] = $"{http}{tenant}/{oauth}/authorize",
                ["token_endpoint"] = $"{https}{tenant}/{oauth}/token",
                ["jwks_uri"] = v2 ? $"{https}{tenant}/discovery/v2.0/keys" : $"{https}{tenant}/discovery/keys",
                ["end_session_endpoint"] = $"{http}{tenant}/{oauth}/logout",
                ["token_endpoint_auth_methods_supported"] = new[] { "client_secret_post", "client_secret_basic" },
                ["response_modes_supported"] = new[] { "query", "fragment", "form_post" },
                ["response_types_supported"] = new[] { "code", "id_token", "code id_token", "id_token token" },
                ["subject_types_supported"] = new[] { "pairwise" },
                ["id_token_signing_alg_values_supported"] = new[] { "RS256" },
                ["scopes_supported"] = new[] { "openid", "profile", "email", "offline_access" },
                ["claims_supported"] = new[] { "sub", "iss", "aud", "exp", "iat", "nbf", "name", "nonce", "oid", "tid", "preferred_username", "email", "roles", "ver" },
                ["code_challenge_methods_supported"] = new[] { "plain", "S256" },
                ["request_uri_parameter_supported"] = false,
                ["frontchannel_logout_supported"] = true,
                ["http_logout_supported"] = true,
                ["tenant_region_scope"] = "NA",
                ["cloud_instance_name"] = addresses.HttpsBase.Authority,
                ["cloud_graph_host_name"] = addresses.HttpsBase.Authority,
                ["msgraph_host"] = addresses.HttpsBase.Authority,
            };
        }

        // MSAL asks Entra whether an authority host is known; answering for ourselves keeps demo mode offline and
        // avoids Entra's "AADSTS50049 unknown or invalid instance" for a loopback host (docs/decisions/0003-emulator-https-identity.md).
        IResult InstanceDiscovery(string tenant, HttpRequest request)
        {
            var host = addresses.HttpsBase.Authority;
            return Results.Json(new Dictionary<string, object>
            {
                ["tenant_discovery_endpoint"] = $"{addresses.HttpsBase}{tenant}/v2.0/.well-known/openid-configuration",
                ["api-version"] = "1.1",
                ["metadata"] = new[]
                {
                    new Dictionary<string, object> { ["preferred_network"] = host, ["preferred_cache"] = host, ["aliases"] = new[] { host } },
                },
            });
        }

        async Task<IResult> TokenAsync(string tenant, HttpRequest request, bool v2)
        {
            if (!request.HasFormContentType)
            {
                return OAuthError(400, "invalid_request", "AADSTS900144: The request body must be form-urlencoded.");
            }

            var form = await request.ReadFormAsync(request.HttpContext.RequestAborted);
            var (clientId, clientSecret) = ClientCredentials(request, form);
            if (clientId != options.PortalClientId || clientSecret != options.PortalClientSecret)
            {
                return OAuthError(401, "invalid_client", "AADSTS7000215: Invalid client secret provided, or unknown client.");
            }

            var grant = form["grant_type"].ToString();
            return grant switch
            {
                "client_credentials" => ClientCredentialsGrant(tenant, form, v2, clientId),
                "authorization_code" => AuthorizationCodeGrant(form, clientId),
                "refresh_token" => RefreshTokenGrant(form, clientId),
                _ => OAuthError(400, "unsupported_grant_type", $"AADSTS70003: The grant type '{grant}' is not supported."),
            };
        }

        IResult ClientCredentialsGrant(string tenant, IFormCollection form, bool v2, string clientId)
        {
            var scope = form["scope"].ToString().Trim();
            var resource = form["resource"].ToString().Trim();
            var marketplace = options.MarketplaceAppId;
            var asked = v2
                ? scope is var s && (s == $"{marketplace}/.default" || s == $"api://{marketplace}/.default")
                : resource == marketplace || resource == $"api://{marketplace}";
            if (!asked)
            {
                return OAuthError(400, "invalid_scope",
                    $"AADSTS1002012: The emulator issues app tokens only for the marketplace resource ({(v2 ? $"scope={marketplace}/.default" : $"resource={marketplace}")}).");
            }

            // client_credentials needs a real tenant: the publisher's, addressed by id (names like 'common' are refused by Entra too).
            if (!Guid.TryParse(tenant, out _))
            {
                return OAuthError(400, "invalid_request", "AADSTS90002: client_credentials needs a tenant id in the authority.");
            }

            var (accessToken, lifetime) = tokens.CreateAppAccessToken(tenant, clientId, marketplace);
            var seconds = (long)lifetime.TotalSeconds;
            var body = new Dictionary<string, object> { ["token_type"] = "Bearer", ["expires_in"] = seconds, ["ext_expires_in"] = seconds, ["access_token"] = accessToken };
            if (!v2)
            {
                body["resource"] = resource;
                body["expires_on"] = time.GetUtcNow().Add(lifetime).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            return Results.Json(body);
        }

        IResult AuthorizationCodeGrant(IFormCollection form, string clientId)
        {
            if (!codes.TryRemove(form["code"].ToString(), out var issued) || issued.ExpiresAt <= time.GetUtcNow() || issued.ClientId != clientId)
            {
                return OAuthError(400, "invalid_grant", "AADSTS70008: The provided authorization code is invalid, expired or already redeemed.");
            }

            if (issued.RedirectUri != form["redirect_uri"].ToString())
            {
                return OAuthError(400, "invalid_grant", "AADSTS50148: The redirect_uri does not match the one of the authorization request.");
            }

            if (issued.CodeChallenge is { Length: > 0 } challenge && !VerifierMatches(challenge, issued.CodeChallengeMethod, form["code_verifier"].ToString()))
            {
                return OAuthError(400, "invalid_grant", "AADSTS501481: The code_verifier does not match the code_challenge.");
            }

            return UserTokens(issued, form["client_info"].ToString() == "1");
        }

        IResult RefreshTokenGrant(IFormCollection form, string clientId)
        {
            if (!refreshTokens.TryGetValue(form["refresh_token"].ToString(), out var issued) || issued.ClientId != clientId)
            {
                return OAuthError(400, "invalid_grant", "AADSTS9002313: The refresh token is invalid.");
            }

            return UserTokens(issued with { Nonce = null }, form["client_info"].ToString() == "1");
        }

        IResult UserTokens(IssuedCode issued, bool wantsClientInfo)
        {
            var person = DemoIdentities.Find(issued.IdentityKey)!;
            var lifetime = options.AccessTokenLifetime;
            var refreshToken = NewOpaque();
            refreshTokens[refreshToken] = issued;
            var body = new Dictionary<string, object>
            {
                ["token_type"] = "Bearer",
                ["scope"] = issued.Scope,
                ["expires_in"] = (long)lifetime.TotalSeconds,
                ["ext_expires_in"] = (long)lifetime.TotalSeconds,
                ["access_token"] = tokens.CreateUserAccessToken(person, issued.ClientId, issued.Scope, lifetime),
                ["id_token"] = tokens.CreateIdToken(person, issued.ClientId, issued.Nonce, lifetime),
                ["refresh_token"] = refreshToken,
            };
            if (wantsClientInfo)
            {
                // MSAL keys its account cache on client_info (uid.utid), as Entra sends it when asked.
                body["client_info"] = Base64UrlEncoder.Encode(JsonSerializer.Serialize(new { uid = person.ObjectId.ToString(), utid = person.TenantId }));
            }

            return Results.Json(body);
        }

        async Task<IResult> SignedInAsync(HttpRequest request)
        {
            var form = await request.ReadFormAsync(request.HttpContext.RequestAborted);
            var person = DemoIdentities.Find(form["identity"]);
            var redirectUri = form["redirect_uri"].ToString();
            if (person is null || !Uri.TryCreate(redirectUri, UriKind.Absolute, out var redirect) || form["client_id"] != options.PortalClientId)
            {
                return Results.Content(SignInPage.Problem("The sign-in request is incomplete: unknown person, client or redirect address."), "text/html; charset=utf-8", statusCode: 400);
            }

            var code = NewOpaque();
            var scope = form["scope"].ToString() is { Length: > 0 } s ? s : "openid profile";
            var issued = new IssuedCode(person.Key, options.PortalClientId, redirectUri, form["nonce"].ToString() is { Length: > 0 } n ? n : null,
                scope, form["code_challenge"].ToString(), form["code_challenge_method"].ToString(), time.GetUtcNow() + CodeLifetime);
            codes[code] = issued;

            var answer = new List<KeyValuePair<string, string>> { new("code", code) };
            if (form["response_type"].ToString().Split(' ').Contains("id_token"))
            {
                answer.Add(new("id_token", tokens.CreateIdToken(person, options.PortalClientId, issued.Nonce, options.AccessTokenLifetime)));
            }

            if (form["state"].ToString() is { Length: > 0 } state)
            {
                answer.Add(new("state", state));
            }

            answer.Add(new("session_state", Guid.NewGuid().ToString()));
            var mode = form["response_mode"].ToString();
            if (mode == "form_post")
            {
                return Results.Content(SignInPage.AutoPost(redirect, answer), "text/html; charset=utf-8");
            }

            var encoded = string.Join("&", answer.Select(p => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(p.Value)}"));
            return mode == "fragment"
                ? Results.Redirect($"{redirectUri}#{encoded}")
                : Results.Redirect($"{redirectUri}{(redirect.Query.Length > 0 ? "&" : "?")}{encoded}");
        }

        IResult SignOut(HttpRequest request)
        {
            var target = request.Query["post_logout_redirect_uri"].ToString();
            if (!Uri.TryCreate(target, UriKind.Absolute, out var redirect))
            {
                return Results.Content(SignInPage.Problem("You are signed out of the marketplace emulator."), "text/html; charset=utf-8");
            }

            var state = request.Query["state"].ToString();
            return Results.Redirect(state.Length == 0 ? target : $"{target}{(redirect.Query.Length > 0 ? "&" : "?")}state={Uri.EscapeDataString(state)}");
        }
    }

    private static (string? ClientId, string? Secret) ClientCredentials(HttpRequest request, IFormCollection form)
    {
        var header = request.Headers.Authorization.ToString();
        if (header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var pair = Encoding.UTF8.GetString(Convert.FromBase64String(header["Basic ".Length..].Trim()));
                var colon = pair.IndexOf(':', StringComparison.Ordinal);
                if (colon > 0)
                {
                    return (Uri.UnescapeDataString(pair[..colon]), Uri.UnescapeDataString(pair[(colon + 1)..]));
                }
            }
            catch (FormatException)
            {
                return (null, null);
            }
        }

        return (Single(form["client_id"]), Single(form["client_secret"]));
    }

    private static string? Single(StringValues values) => values.Count == 1 ? values[0] : null;

    private static bool VerifierMatches(string challenge, string? method, string verifier)
    {
        if (verifier.Length == 0)
        {
            return false;
        }

        var computed = string.Equals(method, "S256", StringComparison.Ordinal)
            ? Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)))
            : verifier;
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(computed), Encoding.ASCII.GetBytes(challenge));
    }

    private static string NewOpaque() => Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));

    private static IResult OAuthError(int status, string error, string description) =>
        Results.Json(new Dictionary<string, object>
        {
            ["error"] = error,
            ["error_description"] = description,
            ["error_codes"] = Array.Empty<int>(),
            ["trace_id"] = Guid.NewGuid().ToString(),
            ["correlation_id"] = Guid.NewGuid().ToString(),
        }, statusCode: status);

    private sealed record IssuedCode(string IdentityKey, string ClientId, string RedirectUri, string? Nonce, string Scope,
        string? CodeChallenge, string? CodeChallengeMethod, DateTimeOffset ExpiresAt);
}
