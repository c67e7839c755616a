namespace Marketplace.Emulator;

/// <summary>A person the emulator's sign-in page offers. Roles travel in the id token's roles claim, as Entra app roles do.</summary>
public sealed record DemoIdentity(
    string Key,
    Guid ObjectId,
    string DisplayName,
    string Email,
    string TenantId,
    string TenantName,
    IReadOnlyList<string> Roles);

/// <summary>The fixed demo people and tenants (team notes, "Demo identities"). Ids never change, so stored data stays meaningful.</summary>
public static class DemoIdentities
{
    public const string PublisherTenantId = "72f988bf-0000-4000-8000-00000000c0de";
    public const string ContosoTenantId = "c0a70500-0000-4000-8000-000000000001";
    public const string FabrikamTenantId = "fab71ca0-0000-4000-8000-000000000002";
    public const string ResellerTenantId = "c5b00000-0000-4000-8000-000000000003";
    public const string NorthwindTenantId = "4e0a7d00-0000-4000-8000-000000000004";

    public static DemoIdentity Alice { get; } = new("alice", Guid.Parse("a11ce000-0000-4000-8000-000000000001"),
        "Alice Customer", "alice@contoso.example", ContosoTenantId, "Contoso", []);

    public static DemoIdentity Bob { get; } = new("bob", Guid.Parse("b0b00000-0000-4000-8000-000000000002"),
        "Bob Beneficiary", "bob@fabrikam.example", FabrikamTenantId, "Fabrikam", []);

    public static DemoIdentity Carla { get; } = new("carla", Guid.Parse("ca71a000-0000-4000-8000-000000000003"),
        "Carla Reseller", "carla@csp-reseller.example", ResellerTenantId, "Reseller", []);

    public static DemoIdentity Olivia { get; } = new("olivia", Guid.Parse("011e1a00-0000-4000-8000-000000000004"),
        "Olivia Operator", "olivia@publisher.example", PublisherTenantId, "Publisher", ["Operator"]);

    public static DemoIdentity Finn { get; } = new("finn", Guid.Parse("f1000000-0000-4000-8000-000000000005"),
        "Finn Finance", "finn@publisher.example", PublisherTenantId, "Publisher", ["Finance"]);

    public static DemoIdentity Ada { get; } = new("ada", Guid.Parse("ada00000-0000-4000-8000-000000000006"),
        "Ada Admin", "ada@publisher.example", PublisherTenantId, "Publisher", ["Admin", "Operator"]);

    public static DemoIdentity Mallory { get; } = new("mallory", Guid.Parse("3a110000-0000-4000-8000-000000000007"),
        "Mallory Outsider", "mallory@northwind.example", NorthwindTenantId, "Northwind", []);

    public static IReadOnlyList<DemoIdentity> All { get; } = [Alice, Bob, Carla, Olivia, Finn, Ada, Mallory];

    public static DemoIdentity? Find(string? key) =>
        All.FirstOrDefault(i => string.Equals(i.Key, key?.Trim(), StringComparison.OrdinalIgnoreCase));
}
