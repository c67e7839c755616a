using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Marketplace.Webhooks;

/// <summary>
/// The data annotations of <see cref="WebhookValidationOptions"/>, each message prefixed with the configuration
/// section the options were bound from ("Webhooks:PublisherTenantId is required …"), so the start-up error names the
/// key an operator must set rather than a section the host does not read.
/// </summary>
internal sealed class WebhookValidationOptionsValidator(string sectionPath) : IValidateOptions<WebhookValidationOptions>
{
    public ValidateOptionsResult Validate(string? name, WebhookValidationOptions options)
    {
        if (name is not null && name != Options.DefaultName)
        {
            return ValidateOptionsResult.Skip;
        }

        var results = new List<ValidationResult>();
        return Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(results.Select(r => $"{sectionPath}:{r.ErrorMessage}"));
    }
}
