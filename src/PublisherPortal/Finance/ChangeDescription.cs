namespace PublisherPortal.Finance;

/// <summary>"from → to" for each of status, plan and seats that a history row changed; a row that changed none says so.</summary>
public static class ChangeDescription
{
    public static IReadOnlyList<string> Of(HistoryRow row)
    {
        var parts = new List<string>();
        if (row.FromStatus != row.ToStatus)
        {
            parts.Add($"status {row.FromStatus ?? "—"} → {row.ToStatus ?? "—"}");
        }

        if (row.FromPlan != row.ToPlan)
        {
            parts.Add($"plan {row.FromPlan ?? "—"} → {row.ToPlan ?? "—"}");
        }

        if (row.FromQuantity != row.ToQuantity)
        {
            parts.Add($"seats {Seats(row.FromQuantity)} → {Seats(row.ToQuantity)}");
        }

        if (parts.Count == 0)
        {
            parts.Add(row.ToStatus is null ? "no change of state" : $"unchanged: {row.ToStatus}, {row.ToPlan}, {Seats(row.ToQuantity)} seats");
        }

        return parts;
    }

    private static string Seats(int? quantity) => quantity?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "—";
}
