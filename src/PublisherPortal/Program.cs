using MudBlazor.Services;
using PublisherPortal.Components;
using PublisherPortal.Data;
using PublisherPortal.Demo;
using PublisherPortal.Identity;
using PublisherPortal.Landing;
using PublisherPortal.Subscriptions;

var builder = WebApplication.CreateBuilder(args);

builder.AddDemoMode();          // no configuration: the emulator plays the marketplace and Entra ID, in-process
builder.AddPortalData();
builder.AddSubscriptions();
builder.AddPortalIdentity();
builder.AddLanding();

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
app.UseAuthentication();
app.UseAuthorization();
app.UseAntiforgery();

app.MapHealthChecks("/healthz").AllowAnonymous();
app.MapAccountEndpoints();
app.MapStaticAssets();
app.MapRazorComponents<App>().AddInteractiveServerRenderMode();

app.Run();

/// <summary>Exposed so tests can host the portal.</summary>
public partial class Program;
