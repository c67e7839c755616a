using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace PublisherPortal.Notifications;

/// <summary>
/// The address links in mails point at: Notifications:PortalUrl when set (real mode, behind a proxy), else the first
/// address this server listens on (demo mode on a random port), else localhost for hosts without a server (tests).
/// </summary>
public sealed class PortalAddress(IOptions<NotificationOptions> options, IServiceProvider services)
{
    public Uri Base
    {
        get
        {
            if (options.Value.PortalUrl is { } configured)
            {
                return WithSlash(configured);
            }

            var listening = services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
            return listening is null
                ? new Uri("http://localhost/")
                : WithSlash(new Uri(listening.Replace("://+", "://localhost").Replace("://[::]", "://localhost").Replace("://0.0.0.0", "://localhost")));
        }
    }

    private static Uri WithSlash(Uri uri) => uri.AbsoluteUri.EndsWith('/') ? uri : new Uri(uri.AbsoluteUri + "/");
}
