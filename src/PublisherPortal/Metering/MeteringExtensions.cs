using System.Security.Claims;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using PublisherPortal.Data;
using PublisherPortal.Demo;

namespace PublisherPortal.Metering;

public static partial class MeteringExtensions
{
    /// <summary>
    /// Metered billing: the usage intake and how the product authenticates to it (API key in demo mode, Entra app token
    /// in real mode), the store, the submission worker, and the console's query service.
    /// Needs the marketplace client (AddSubscriptions) and the data layer (AddPortalData).
    /// </summary>
    public static IHostApplicationBuilder AddMetering(this IHostApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var mode = configuration.GetSection(PortalModeOptions.Section).Get<PortalModeOptions>()?.Mode ?? PortalMode.Demo;

        builder.Services.AddOptions<MeteringOptions>()
            .Bind(configuration.GetSection(MeteringOptions.Section))
            .PostConfigure(o =>
            {
                if (mode == PortalMode.Demo && o.ApiKeys.Count == 0)
                {
                    o.ApiKeys[MeteringAuthentication.DemoKeyName] = MeteringAuthentication.DemoKey;
                }
            })
            .Validate(o => mode == PortalMode.Demo || o.AllowedClientAppIds.Count > 0,
                "Metering:AllowedClientAppIds is required in real mode (the client ids of the apps allowed to report usage).")
            .ValidateDataAnnotations()
            .ValidateOnStart();

        var authentication = builder.Services.AddAuthentication();
        string intakeScheme;
        if (mode == PortalMode.Demo)
        {
            intakeScheme = MeteringAuthentication.ApiKeyScheme;
            authentication.AddScheme<ApiKeyAuthenticationOptions, ApiKeyAuthenticationHandler>(MeteringAuthentication.ApiKeyScheme, null);
        }
        else
        {
            intakeScheme = MeteringAuthentication.AppTokenScheme;
            authentication.AddJwtBearer(MeteringAuthentication.AppTokenScheme, jwt => ConfigureAppToken(jwt, configuration));
        }

        builder.Services.AddAuthorizationBuilder().AddPolicy(MeteringEndpoints.IntakePolicy, policy =>
        {
            policy.AddAuthenticationSchemes(intakeScheme)
                .RequireAuthenticatedUser()
                .RequireClaim(MeteringAuthentication.SourceClaim);
            if (mode == PortalMode.Real)
            {
                // A valid token of our tenant for our API proves who is calling; whether that caller may report usage is
                // authorization, so a stranger app or a person gets 403, not the 401 of a bad token.
                var allowedApps = AllowedClientAppIds(configuration);
                policy.RequireAssertion(context => IsAllowedAppOnlyCaller(context.User, allowedApps));
            }
        });

        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<UsageStore>();
        builder.Services.AddSingleton<MeteringPlans>();
        builder.Services.AddScoped<UsageIntake>();
        builder.Services.AddSingleton<UsageSubmitter>();
        builder.Services.AddWritableDatabaseCheck();   // the intake answers 503 while writes would be lost
        builder.Services.AddScoped<MeteringConsole>();
        if (configuration.GetValue(MeteringOptions.Section + ":" + nameof(MeteringOptions.RunWorker), true))
        {
            builder.Services.TryAddSingleton<PublisherPortal.Webhooks.WorkerIdentity>();
            builder.Services.AddHostedService<UsageSubmissionWorker>();
        }

        return builder;
    }

    /// <summary>
    /// Real mode: the product calls with a client-credentials token from the publisher's tenant for our app. Checked
    /// here: signature and issuer (the tenant's v2.0 metadata, or Entra's v1 issuer sts.windows.net — an app
    /// registration gets v1 access tokens unless its manifest asks for v2), audience (our client id or its api:// URI)
    /// and lifetime. Who may call (<see cref="IsAllowedAppOnlyCaller"/>) is the intake policy's question.
    /// </summary>
    private static void ConfigureAppToken(JwtBearerOptions jwt, IConfiguration configuration)
    {
        var metering = configuration.GetSection(MeteringOptions.Section);
        var instance = (configuration["AzureAd:Instance"] ?? "https://login.microsoftonline.com/").TrimEnd('/');
        var tenant = metering["TenantId"] ?? configuration["Marketplace:TenantId"];
        var audience = metering["Audience"] ?? configuration["AzureAd:ClientId"];

        jwt.Authority = $"{instance}/{tenant}/v2.0";
        jwt.MapInboundClaims = false;
        jwt.TokenValidationParameters.ValidAudiences = audience is null ? [] : [audience, $"api://{audience}"];
        // The handler adds the metadata's (v2) issuer to these.
        jwt.TokenValidationParameters.ValidIssuers = [$"https://sts.windows.net/{tenant}/"];
        jwt.Events = new JwtBearerEvents
        {
            OnTokenValidated = context =>
            {
                // The source names the app on every record it reports; the policy decides whether it may report.
                if (CallingApp(context.Principal) is { } app)
                {
                    (context.Principal!.Identity as ClaimsIdentity)?.AddClaim(new Claim(MeteringAuthentication.SourceClaim, "app:" + app));
                }

                return Task.CompletedTask;
            },
        };
    }

    private static string[] AllowedClientAppIds(IConfiguration configuration) =>
        configuration.GetSection(MeteringOptions.Section).GetSection(nameof(MeteringOptions.AllowedClientAppIds)).Get<string[]>() ?? [];

    /// <summary>The client id of the app that asked for the token: azp in v2 tokens, appid in v1.</summary>
    private static string? CallingApp(ClaimsPrincipal? principal) =>
        principal?.FindFirst("azp")?.Value ?? principal?.FindFirst("appid")?.Value;

    /// <summary>
    /// True for an app-only token (client credentials) of an allowed app. A delegated token carries the app that signed
    /// a person in as azp too, so without this an allowed app's user token — a person's sign-in — would report usage in
    /// the app's name: those carry scp (delegated scopes) and, when the optional claim is on, idtyp "user".
    /// </summary>
    private static bool IsAllowedAppOnlyCaller(ClaimsPrincipal caller, string[] allowedApps)
    {
        var delegated = caller.HasClaim(c => c.Type == "scp") || caller.FindFirst("idtyp")?.Value is { } type && type != "app";
        return !delegated && CallingApp(caller) is { } app && allowedApps.Contains(app, StringComparer.OrdinalIgnoreCase);
    }
}
