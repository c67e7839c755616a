using MudBlazor.Services;
using PublisherPortal.Components;
using PublisherPortal.Components.Layout;
using PublisherPortal.Console;
using PublisherPortal.Data;
using PublisherPortal.Demo;
using PublisherPortal.Entitlements;
using PublisherPortal.Finance;
using PublisherPortal.Health;
using PublisherPortal.Identity;
using PublisherPortal.Landing;
using PublisherPortal.Metering;
using PublisherPortal.Notifications;
using PublisherPortal.Offers;
using PublisherPortal.Subscriptions;
using PublisherPortal.Webhooks;

var builder = WebApplication.CreateBuilder(args);

builder.AddDemoMode();          // no configuration: the emulator plays the marketplace and Entra ID, in-process
builder.AddPortalData();
builder.AddSharedDataProtection();   // keys in the database: any instance honours any instance's cookies
builder.AddSubscriptions();
builder.AddPortalIdentity();
builder.AddLanding();
builder.AddWebhooks();
builder.AddConsole();
builder.AddFinance();
builder.AddMetering();
builder.AddEntitlements();   // the product's entitlement API (same authentication as the usage intake)
builder.AddHealth();
builder.AddNotifications();   // mails derived from history events, sent from an outbox
builder.AddOffers();

builder.Services.AddMudServices();
builder.Services.AddRazorComponents().AddInteractiveServerComponents();
builder.Services.AddHealthChecks();

var app = builder.Build();

await app.MigrateDatabaseAsync();

if (!app.Environment.IsDevelopment())
{
    app.UseExceptionHandler("/error", createScopeForErrors: true);
    app.UseHsts();
}

app.UseStaticFiles();
app.UsePortalAssets();
app.UseAuthentication();
app.UseAuthorization();
app.UseAntiforgery();

app.MapHealthEndpoints();   // /healthz liveness, /healthz/ready readiness
app.MapAccountEndpoints();
app.MapWebhookEndpoints();
app.MapFinanceEndpoints();
app.MapMeteringEndpoints();
app.MapEntitlementEndpoints();   // /api/entitlements, /openapi/product.json
app.MapStaticAssets();
app.MapRazorComponents<App>().AddInteractiveServerRenderMode();

app.Run();

/// <summary>Exposed so tests can host the portal.</summary>
public partial class Program;
