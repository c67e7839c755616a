using System.Net.Mail;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Net.Http.Headers;
using PublisherPortal.Metering;

namespace PublisherPortal.Entitlements;

/// <summary>
/// The product's entitlement API. The product authenticates exactly as it does to report usage (an Entra app token of
/// an allowed app in real mode, an API key in demo mode), so one registration in Entra serves both.
/// </summary>
public static class EntitlementEndpoints
{
    /// <summary>Who may read entitlements: the publisher's product, by the usage intake's own policy.</summary>
    public const string ProductPolicy = MeteringEndpoints.IntakePolicy;

    public const string OpenApiDocument = "product";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>GET /api/entitlements/{subscriptionId} and GET /api/entitlements?tenantId=…[&amp;userObjectId=…|&amp;email=…].</summary>
    public static IEndpointRouteBuilder MapEntitlementEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/entitlements")
            .RequireAuthorization(ProductPolicy)
            .WithTags("Entitlements");

        group.MapGet("/{subscriptionId}", GetOneAsync)
            .WithName("GetEntitlement")
            .WithSummary("The entitlement of one subscription.")
            .WithDescription("Answers 304 when If-None-Match names the current ETag, so a product can poll cheaply.")
            .Produces<Entitlement>(StatusCodes.Status200OK)
            .Produces(StatusCodes.Status304NotModified)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);

        group.MapGet("/", GetManyAsync)
            .WithName("FindEntitlements")
            .WithSummary("The entitlements of a customer tenant, or of one user of it (by object id or e-mail).")
            .WithDescription("tenantId is required; add userObjectId or email (not both) for one user's. 404 when none match.")
            .Produces<EntitlementList>(StatusCodes.Status200OK)
            .Produces(StatusCodes.Status304NotModified)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);

        // The description is no secret: a product's engineers read it before they have credentials.
        app.MapOpenApi("/openapi/{documentName}.json").AllowAnonymous();
        return app;
    }

    private static async Task<IResult> GetOneAsync(string subscriptionId, HttpContext context, EntitlementReader reader, CancellationToken ct)
    {
        if (!Guid.TryParse(subscriptionId, out var id))
        {
            return Invalid("subscriptionId", "Not a subscription id: expected a GUID such as 6c1d4f0e-0000-0000-0000-000000000000.");
        }

        var entitlement = await reader.FindAsync(id, ct);
        if (entitlement is null)
        {
            return Results.Problem(
                title: "No such subscription.",
                detail: $"Subscription {id} is not one of this publisher's.",
                statusCode: StatusCodes.Status404NotFound);
        }

        return Answer(context, entitlement, "v" + entitlement.Version);
    }

    private static async Task<IResult> GetManyAsync(
        string? tenantId, string? userObjectId, string? email, HttpContext context, EntitlementReader reader, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        Guid tenant = default;
        Guid? objectId = null;
        if (string.IsNullOrWhiteSpace(tenantId))
        {
            errors["tenantId"] = ["Required: the customer's Entra tenant id."];
        }
        else if (!Guid.TryParse(tenantId, out tenant))
        {
            errors["tenantId"] = ["Not a tenant id: expected a GUID."];
        }

        if (!string.IsNullOrWhiteSpace(userObjectId))
        {
            if (Guid.TryParse(userObjectId, out var oid))
            {
                objectId = oid;
            }
            else
            {
                errors["userObjectId"] = ["Not a user object id: expected a GUID."];
            }
        }

        var byEmail = !string.IsNullOrWhiteSpace(email);
        if (byEmail && (email!.Length > 320 || !MailAddress.TryCreate(email.Trim(), out _)))
        {
            errors["email"] = ["Not an e-mail address."];
        }

        if (byEmail && objectId is not null)
        {
            errors["email"] = ["Give userObjectId or email, not both."];
        }

        if (errors.Count > 0)
        {
            return Results.ValidationProblem(errors, title: "The entitlement query is not valid.");
        }

        var found = objectId is not null || byEmail
            ? await reader.ForUserAsync(tenant, objectId, byEmail ? email : null, ct)
            : await reader.ForTenantAsync(tenant, ct);
        if (found.Count == 0)
        {
            return Results.Problem(
                title: "No entitlements.",
                detail: objectId is not null || byEmail
                    ? $"No subscription of tenant {tenant} names this user."
                    : $"Tenant {tenant} has no subscription with this publisher.",
                statusCode: StatusCodes.Status404NotFound);
        }

        return Answer(context, new EntitlementList(found), "l" + found.Max(e => e.Version));
    }

    /// <summary>
    /// 200 with the body and its ETag, or 304 when the caller already holds it. The ETag is the version plus a digest of
    /// the body: the version moves with every change, and the digest also catches what the marketplace refreshes
    /// without a change (a corrected e-mail address), so a cached copy is never wrongly confirmed.
    /// </summary>
    private static IResult Answer<T>(HttpContext context, T body, string version)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(body, Json);
        var digest = Convert.ToHexStringLower(SHA256.HashData(bytes).AsSpan(0, 8));
        var etag = new EntityTagHeaderValue($"\"{version}-{digest}\"");
        context.Response.Headers.ETag = etag.ToString();
        context.Response.Headers.CacheControl = "no-cache";

        if (EntityTagHeaderValue.TryParseList(context.Request.Headers.IfNoneMatch.OfType<string>().ToList(), out var held)
            && held.Any(h => h.Equals(EntityTagHeaderValue.Any) || h.Compare(etag, useStrongComparison: false)))
        {
            return Results.StatusCode(StatusCodes.Status304NotModified);
        }

        return Results.Bytes(bytes, "application/json");
    }

    private static IResult Invalid(string field, string message) =>
        Results.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] }, title: "The entitlement query is not valid.");
}

/// <summary>Several entitlements, oldest subscription first.</summary>
public sealed record EntitlementList(IReadOnlyList<Entitlement> Items);
