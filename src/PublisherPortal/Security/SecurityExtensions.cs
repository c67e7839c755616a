using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using PublisherPortal.Demo;

namespace PublisherPortal.Security;

/// <summary>
/// The "ForwardedHeaders" section: which reverse proxies or load balancers may say, in X-Forwarded-For and
/// X-Forwarded-Proto, who the client is and that it came over https. Loopback is always trusted (ASP.NET Core's
/// default), so nginx on the same machine needs nothing here.
/// </summary>
public sealed class ForwardedHeadersSettings
{
    public const string Section = "ForwardedHeaders";

    /// <summary>Addresses of proxies, e.g. "10.0.0.4".</summary>
    public List<string> KnownProxies { get; set; } = [];

    /// <summary>Networks the proxies live in, in CIDR form, e.g. "10.0.0.0/24".</summary>
    public List<string> KnownNetworks { get; set; } = [];

    /// <summary>How many proxies in a row may add an entry (a CDN in front of a gateway is 2).</summary>
    public int ForwardLimit { get; set; } = 1;
}

public static class SecurityExtensions
{
    /// <summary>
    /// ProblemDetails for API errors, forwarded headers from the configured proxies, and — in real mode — HSTS and
    /// cookies that only travel over https.
    /// </summary>
    public static IHostApplicationBuilder AddPortalSecurity(this IHostApplicationBuilder builder)
    {
        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<ApiProblemExceptionHandler>();

        var settings = builder.Configuration.GetSection(ForwardedHeadersSettings.Section).Get<ForwardedHeadersSettings>()
            ?? new ForwardedHeadersSettings();
        builder.Services.Configure<ForwardedHeadersOptions>(options =>
        {
            // Host is not forwarded: the portal builds no absolute URL from it that a client could steer elsewhere.
            options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            options.ForwardLimit = settings.ForwardLimit;
            foreach (var proxy in settings.KnownProxies)
            {
                options.KnownProxies.Add(IPAddress.TryParse(proxy, out var address)
                    ? address
                    : throw new InvalidOperationException($"ForwardedHeaders:KnownProxies: '{proxy}' is not an IP address."));
            }

            foreach (var network in settings.KnownNetworks)
            {
                options.KnownIPNetworks.Add(System.Net.IPNetwork.TryParse(network, out var parsed)
                    ? parsed
                    : throw new InvalidOperationException($"ForwardedHeaders:KnownNetworks: '{network}' is not a network in CIDR form (10.0.0.0/24)."));
            }
        });

        if (IsReal(builder.Configuration))
        {
            // Real mode is served over https, at the proxy if not here: cookies (sign-in, antiforgery, the OpenID
            // Connect correlation ones) never travel in clear, and browsers are told to stay on https.
            builder.Services.Configure<CookiePolicyOptions>(o => o.Secure = CookieSecurePolicy.Always);
            builder.Services.AddHsts(o =>
            {
                o.MaxAge = TimeSpan.FromDays(365);
                o.IncludeSubDomains = false;   // other hosts of the publisher's domain are not ours to decide
            });
        }

        return builder;
    }

    /// <summary>The start of the pipeline: who is asking and over what, then errors, then headers on every answer.</summary>
    public static WebApplication UsePortalSecurity(this WebApplication app)
    {
        app.UseForwardedHeaders();

        // People get the error page; API callers get ProblemDetails (ApiProblemExceptionHandler answers them first),
        // also for an empty error status (401, 404, 413, 503…). Development keeps the developer exception page.
        // Not inside UseWhen: re-executing the error path needs the app's own routing, which a branch does not carry.
        if (!app.Environment.IsDevelopment())
        {
            app.UseExceptionHandler(ErrorPath, createScopeForErrors: true);
        }

        app.UseWhen(IsApi, api => api.UseStatusCodePages());

        if (IsReal(app.Configuration))
        {
            app.UseHsts();
            app.UseCookiePolicy();
        }

        app.UseSecurityHeaders();
        return app;
    }

    public const string ErrorPath = "/error";

    /// <summary>Machine callers: the intake and webhook APIs and the health probes. (CSV exports are people's downloads.)</summary>
    public static bool IsApi(HttpContext context) => IsApiPath(context.Request.Path);

    public static bool IsApiPath(PathString path) => path.StartsWithSegments("/api") || path.StartsWithSegments("/healthz");

    private static bool IsReal(IConfiguration configuration) =>
        string.Equals(configuration[$"{PortalModeOptions.Section}:{nameof(PortalModeOptions.Mode)}"], nameof(PortalMode.Real), StringComparison.OrdinalIgnoreCase);
}

/// <summary>An unhandled exception on an API route: a 500 ProblemDetails, not the people's error page.</summary>
internal sealed class ApiProblemExceptionHandler(IProblemDetailsService problems) : Microsoft.AspNetCore.Diagnostics.IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        // By now the request path is already the error page's; the feature keeps the one that failed.
        var failedPath = context.Features.Get<Microsoft.AspNetCore.Diagnostics.IExceptionHandlerPathFeature>()?.Path ?? context.Request.Path;
        if (!SecurityExtensions.IsApiPath(failedPath))
        {
            return false;
        }

        context.Response.StatusCode = StatusCodes.Status500InternalServerError;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            Exception = exception,
            ProblemDetails = { Title = "The request could not be completed.", Status = StatusCodes.Status500InternalServerError },
        });
    }
}
