namespace PublisherPortal.Identity;

/// <summary>Every page and endpoint names one of these. Roles are Entra ID app roles (the id token's "roles" claim).</summary>
public static class Policies
{
    /// <summary>Any signed-in person; what they see is narrowed to their own subscriptions.</summary>
    public const string Customer = nameof(Customer);

    /// <summary>Changes plans and seats, cancels, retries stuck work.</summary>
    public const string Operator = nameof(Operator);

    /// <summary>Reads the console and history, exports. Never changes anything.</summary>
    public const string Finance = nameof(Finance);

    /// <summary>Reads what operators read: operators and finance both.</summary>
    public const string Staff = nameof(Staff);

    /// <summary>Settings.</summary>
    public const string Admin = nameof(Admin);
}

public static class Roles
{
    public const string Operator = "Operator";
    public const string Finance = "Finance";
    public const string Admin = "Admin";
}
