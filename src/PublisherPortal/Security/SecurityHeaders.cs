namespace PublisherPortal.Security;

/// <summary>
/// Response headers every answer carries. The Content-Security-Policy is the narrowest one Blazor Server and MudBlazor
/// run under (https://learn.microsoft.com/aspnet/core/blazor/security/content-security-policy): scripts only from this
/// origin (blazor.web.js, MudBlazor.min.js; no inline script, no eval), styles from this origin plus inline ones
/// (MudBlazor writes style attributes and its theme as a &lt;style&gt; element), the circuit's WebSocket back to this
/// host, and no framing by anyone (clickjacking). The browser tests collect CSP violations over the main pages.
/// </summary>
public static class SecurityHeaders
{
    public const string ContentSecurityPolicy = "Content-Security-Policy";

    /// <summary>Features the portal never uses, switched off so injected content cannot ask for them either.</summary>
    public const string PermissionsPolicy =
        "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=(), interest-cohort=()";

    public static string PolicyFor(HttpRequest request)
    {
        // 'self' covers ws/wss to the same host in current browsers (CSP Level 3), older ones need it spelled out.
        var socket = $"{(request.IsHttps ? "wss" : "ws")}://{request.Host.Value}";
        return string.Join("; ",
            "default-src 'self'",
            "base-uri 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            $"connect-src 'self' {socket}",
            "object-src 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'");
    }

    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) =>
        app.Use((context, next) =>
        {
            context.Response.OnStarting(() =>
            {
                var headers = context.Response.Headers;
                headers.XContentTypeOptions = "nosniff";
                // The landing link carries the purchase token in its query: no other site ever sees our URLs.
                headers["Referrer-Policy"] = "same-origin";
                headers["Permissions-Policy"] = PermissionsPolicy;
                headers.XFrameOptions = "DENY";   // frame-ancestors for browsers that predate it
                // Replaces the frame-ancestors-only policy Blazor sets on its pages: one complete policy everywhere.
                headers[ContentSecurityPolicy] = PolicyFor(context.Request);

                return Task.CompletedTask;
            });
            return next(context);
        });
}
