using MudBlazor.Services;
using PublisherPortal.Components;
using PublisherPortal.Components.Layout;
using PublisherPortal.Console;
using PublisherPortal.Data;
using PublisherPortal.Demo;
using PublisherPortal.Entitlements;
using PublisherPortal.Finance;
using PublisherPortal.Revenue;
using PublisherPortal.Health;
using PublisherPortal.Identity;
using PublisherPortal.Landing;
using PublisherPortal.Metering;
using PublisherPortal.Notifications;
using PublisherPortal.Observability;
using PublisherPortal.Offers;
using PublisherPortal.Security;
using PublisherPortal.Subscriptions;
using PublisherPortal.Webhooks;

var builder = WebApplication.CreateBuilder(args);

builder.AddDemoMode();          // Development or Portal:Mode=Demo: the emulator plays the marketplace and Entra ID; else real settings or no start
builder.AddPortalSecurity();    // ProblemDetails, forwarded headers from known proxies, HSTS and Secure cookies in real mode
builder.AddPortalData();
builder.AddSharedDataProtection();   // keys in the database: any instance honours any instance's cookies
builder.AddSubscriptions();
builder.AddPortalIdentity();
builder.AddLanding();
builder.AddWebhooks();
builder.AddConsole();
builder.AddFinance();
builder.AddRevenue();
builder.AddMetering();
builder.AddEntitlements();   // the product's entitlement API (same authentication as the usage intake)
builder.AddHealth();
builder.AddNotifications();   // mails derived from history events, sent from an outbox
builder.AddOffers();
builder.AddObservability();   // OpenTelemetry over OTLP when the OTEL_* settings name an endpoint; nothing otherwise

builder.Services.AddMudServices();
builder.Services.AddRazorComponents().AddInteractiveServerComponents();
builder.Services.AddHealthChecks();

var app = builder.Build();

await app.MigrateDatabaseAsync();

app.UsePortalSecurity();   // forwarded headers, error page / ProblemDetails, HSTS, CSP and the other headers

app.UseStaticFiles();
app.UsePortalAssets();
app.UseAuthentication();
app.UseAuthorization();
app.UseRateLimiter();   // per-source limit of refused webhook deliveries (Webhooks/RejectedDeliveryLimit)
app.UseAntiforgery();

app.MapHealthEndpoints();   // /healthz liveness, /healthz/ready readiness
app.MapAccountEndpoints();
app.MapWebhookEndpoints();
app.MapFinanceEndpoints();
app.MapRevenueEndpoints();
app.MapMeteringEndpoints();
app.MapEntitlementEndpoints();   // /api/entitlements, /openapi/product.json
app.MapStaticAssets();
app.MapRazorComponents<App>()
    .AddInteractiveServerRenderMode(o => o.ContentSecurityFrameAncestorsPolicy = "'none'");   // the full policy: Security/SecurityHeaders.cs

app.Run();

/// <summary>Exposed so tests can host the portal.</summary>
public partial class Program;
