using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Marketplace.Emulator.Identity;

/// <summary>
/// The demo sign-in: one button per demo identity. Every parameter of the authorization request is carried through
/// hidden fields so the POST back can answer exactly as Entra would (code, state, nonce, response_mode).
/// Buttons carry data-identity="alice" etc. so browser tests can click them.
/// </summary>
internal static class SignInPage
{
    private static readonly string[] CarriedParameters =
        ["client_id", "redirect_uri", "response_type", "response_mode", "scope", "state", "nonce", "code_challenge", "code_challenge_method"];

    private const string Style = """
        <style>
          body { font-family: "Segoe UI", system-ui, sans-serif; background: #f3f2f1; margin: 0; color: #1b1a19; }
          main { max-width: 440px; margin: 8vh auto; background: #fff; padding: 32px 40px; box-shadow: 0 2px 6px rgba(0,0,0,.2); }
          h1 { font-size: 1.4rem; font-weight: 600; margin: 0 0 4px; }
          p.hint { color: #605e5c; margin: 0 0 20px; font-size: .9rem; }
          form button { display: flex; width: 100%; align-items: center; gap: 12px; text-align: left; background: #fff;
            border: 1px solid #c8c6c4; padding: 10px 12px; margin-bottom: 8px; cursor: pointer; font: inherit; }
          form button:hover, form button:focus { background: #f3f2f1; border-color: #0078d4; outline: none; }
          .avatar { width: 36px; height: 36px; border-radius: 50%; background: #0078d4; color: #fff; display: grid; place-items: center; font-weight: 600; }
          .who small { display: block; color: #605e5c; }
          .roles { margin-left: auto; font-size: .75rem; color: #0078d4; }
        </style>
        """;

    public static IResult Render(string tenant, IQueryCollection query, EmulatorOptions options)
    {
        if (query["client_id"] != options.PortalClientId)
        {
            return Results.Content(Problem($"Unknown application '{query["client_id"]}'. The emulator signs in only to client {options.PortalClientId}."),
                "text/html; charset=utf-8", statusCode: 400);
        }

        var hidden = new StringBuilder();
        foreach (var name in CarriedParameters)
        {
            if (query[name].ToString() is { Length: > 0 } value)
            {
                hidden.Append($"""<input type="hidden" name="{name}" value="{Encode(value)}">""");
            }
        }

        var buttons = new StringBuilder();
        foreach (var person in DemoIdentities.All)
        {
            var roles = person.Roles.Count > 0 ? $"""<span class="roles">{Encode(string.Join(", ", person.Roles))}</span>""" : "";
            buttons.Append($"""
                <button type="submit" name="identity" value="{person.Key}" id="identity-{person.Key}" data-identity="{person.Key}">
                  <span class="avatar">{Encode(person.DisplayName[..1])}</span>
                  <span class="who">{Encode(person.DisplayName)}<small>{Encode(person.Email)} · {Encode(person.TenantName)}</small></span>{roles}
                </button>
                """);
        }

        var html = $"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Sign in to the marketplace emulator</title>{Style}</head>
            <body><main>
              <h1>Sign in to the marketplace emulator</h1>
              <p class="hint">Demo identities only — no password. Pick who you are.</p>
              <form method="post" action="">{hidden}{buttons}</form>
            </main></body></html>
            """;
        return Results.Content(html, "text/html; charset=utf-8");
    }

    /// <summary>response_mode=form_post: a form that submits itself to the redirect URI, as Entra's does.</summary>
    public static string AutoPost(Uri redirectUri, IEnumerable<KeyValuePair<string, string>> fields)
    {
        var inputs = string.Concat(fields.Select(f => $"""<input type="hidden" name="{Encode(f.Key)}" value="{Encode(f.Value)}">"""));
        return $"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>Signing in…</title></head>
            <body onload="document.forms[0].submit()">
              <form method="post" action="{Encode(redirectUri.ToString())}">{inputs}<noscript><button type="submit">Continue</button></noscript></form>
            </body></html>
            """;
    }

    public static string Problem(string message) => $"""
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>Marketplace emulator</title>{Style}</head>
        <body><main><h1>Marketplace emulator</h1><p>{Encode(message)}</p></main></body></html>
        """;

    private static string Encode(string value) => WebUtility.HtmlEncode(value);
}
