using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
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

        builder.Services.AddAuthorizationBuilder().AddPolicy(MeteringEndpoints.IntakePolicy, policy => policy
            .AddAuthenticationSchemes(intakeScheme)
            .RequireAuthenticatedUser()
            .RequireClaim(MeteringAuthentication.SourceClaim));

        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<UsageStore>();
        builder.Services.AddSingleton<MeteringPlans>();
        builder.Services.AddScoped<UsageIntake>();
        builder.Services.AddSingleton<UsageSubmitter>();
        builder.Services.AddScoped<MeteringConsole>();
        if (configuration.GetValue(MeteringOptions.Section + ":" + nameof(MeteringOptions.RunWorker), true))
        {
            builder.Services.AddHostedService<UsageSubmissionWorker>();
        }

        return builder;
    }

    /// <summary>
    /// Real mode: the product calls with a client-credentials token from the publisher's tenant for our app. Checked:
    /// signature and issuer (the tenant's v2.0 metadata), audience (our client id or its api:// URI), lifetime, and that
    /// the calling app (azp, or appid in v1 tokens) is one of Metering:AllowedClientAppIds.
    /// </summary>
    private static void ConfigureAppToken(JwtBearerOptions jwt, IConfiguration configuration)
    {
        var metering = configuration.GetSection(MeteringOptions.Section);
        var instance = (configuration["AzureAd:Instance"] ?? "https://login.microsoftonline.com/").TrimEnd('/');
        var tenant = metering["TenantId"] ?? configuration["Marketplace:TenantId"];
        var audience = metering["Audience"] ?? configuration["AzureAd:ClientId"];
        var allowedApps = metering.GetSection(nameof(MeteringOptions.AllowedClientAppIds)).Get<string[]>() ?? [];

        jwt.Authority = $"{instance}/{tenant}/v2.0";
        jwt.MapInboundClaims = false;
        jwt.TokenValidationParameters.ValidAudiences = audience is null ? [] : [audience, $"api://{audience}"];
        jwt.Events = new JwtBearerEvents
        {
            OnTokenValidated = context =>
            {
                var app = context.Principal?.FindFirst("azp")?.Value ?? context.Principal?.FindFirst("appid")?.Value;
                if (app is null || !allowedApps.Contains(app, StringComparer.OrdinalIgnoreCase))
                {
                    context.Fail("The calling app is not allowed to report usage.");
                    return Task.CompletedTask;
                }

                (context.Principal!.Identity as System.Security.Claims.ClaimsIdentity)?
                    .AddClaim(new System.Security.Claims.Claim(MeteringAuthentication.SourceClaim, "app:" + app));
                return Task.CompletedTask;
            },
        };
    }
}
