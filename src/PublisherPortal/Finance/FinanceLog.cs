namespace PublisherPortal.Finance;

/// <summary>Log lines of the finance pages. Filters may name a customer's e-mail, so they are not logged here.</summary>
internal static partial class FinanceLog
{
    [LoggerMessage(Level = LogLevel.Error, Message = "The finance view {View} could not be read")]
    public static partial void ReadFailed(ILogger logger, string view, Exception exception);
}
