using System.Data.Common;

namespace PublisherPortal.Data;

/// <summary>
/// Several followers of history events behind the one <see cref="SubscriptionStore"/> calls (notifications queue mails,
/// entitlements queue events for the product), each in the transaction that writes the event, in registration order.
/// </summary>
public sealed class SubscriptionEventFollowers(IReadOnlyList<ISubscriptionEventFollower> followers) : ISubscriptionEventFollower
{
    public static ISubscriptionEventFollower? From(IEnumerable<ISubscriptionEventFollower> registered) =>
        registered.ToList() switch
        {
            [] => null,
            [var one] => one,
            var many => new SubscriptionEventFollowers(many),
        };

    public async Task FollowAsync(SubscriptionEvent recorded, DbConnection connection, DbTransaction? tx, CancellationToken ct)
    {
        foreach (var follower in followers)
        {
            await follower.FollowAsync(recorded, connection, tx, ct);
        }
    }
}
