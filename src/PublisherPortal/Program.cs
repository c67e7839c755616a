using MudBlazor.Services;
using PublisherPortal.Components;
using PublisherPortal.Components.Layout;
using PublisherPortal.Data;
using PublisherPortal.Demo;
using PublisherPortal.Identity;
using PublisherPortal.Metering;
using PublisherPortal.Subscriptions;

var builder = WebApplication.CreateBuilder(args);

builder.AddDemoMode();          // no configuration: the emulator plays the marketplace and Entra ID, in-process
builder.AddPortalData();
builder.AddSubscriptions();
builder.AddPortalIdentity();
builder.AddMetering();

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

app.MapHealthChecks("/healthz").AllowAnonymous();
app.MapAccountEndpoints();
app.MapMeteringEndpoints();
app.MapStaticAssets();
app.MapRazorComponents<App>().AddInteractiveServerRenderMode();

app.Run();

/// <summary>Exposed so tests can host the portal.</summary>
public partial class Program;
