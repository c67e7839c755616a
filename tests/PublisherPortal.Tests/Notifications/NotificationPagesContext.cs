using Bunit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MudBlazor;
using PublisherPortal.Data;
using PublisherPortal.Demo;
using PublisherPortal.Notifications;
using PublisherPortal.Tests.Support;

namespace PublisherPortal.Tests.Notifications;

/// <summary>bUnit for the notification pages: the real stores and services over a migrated database, workers not started.</summary>
public abstract class NotificationPagesContext : PortalTestContext, IAsyncLifetime
{
    protected TestDatabase Db { get; private set; } = default!;

    protected PortalMode Mode { get; set; } = PortalMode.Demo;

    public async Task InitializeAsync()
    {
        Db = await TestDatabase.CreateAsync();
        Services.AddSingleton(Db.Database);
        Services.AddSingleton<TimeProvider>(Db.Time);
        Services.AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance);
        Services.AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));
        Services.AddSingleton<SubscriptionStore>();
        Services.Configure<PortalModeOptions>(o => o.Mode = Mode);
        Services.AddNotificationServices(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Notifications:Smtp:Host"] = "127.0.0.1",
            ["Notifications:Smtp:Port"] = "2525",
            ["Notifications:Smtp:UserName"] = "portal",
            ["Notifications:Smtp:Password"] = "s3cret-never-shown",
            ["Notifications:OperatorAddresses:0"] = "olivia@publisher.example",
            ["Notifications:PortalUrl"] = "https://portal.contoso.example/",
        }).Build().GetSection(NotificationOptions.Section));
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        await base.DisposeAsync();
        await Db.DisposeAsync();
    }

    protected void SignInAsAdmin() => SignIn("ada@publisher.example", "72f988bf-0000-4000-8000-00000000c0de", PublisherPortal.Identity.Roles.Admin, PublisherPortal.Identity.Roles.Operator);

    protected void SignInAsOperator() => SignIn("olivia@publisher.example", "72f988bf-0000-4000-8000-00000000c0de", PublisherPortal.Identity.Roles.Operator);

    protected void SignInAsFinance() => SignIn("finn@publisher.example", "72f988bf-0000-4000-8000-00000000c0de", PublisherPortal.Identity.Roles.Finance);

    protected IRenderedComponent<TPage> RenderPage<TPage>(Action<ComponentParameterCollectionBuilder<TPage>>? parameters = null)
        where TPage : Microsoft.AspNetCore.Components.IComponent
    {
        Render<MudPopoverProvider>();
        return Render(parameters ?? (_ => { }));
    }
}
