namespace PublisherPortal.Landing;

/// <summary>
/// Where a customer is in the activation wizard, persisted in subscriptions.wizard_step so a refresh or a second visit
/// resumes there. The numbers are stored: never renumber them.
/// </summary>
public enum WizardStep
{
    Review = 0,
    Setup = 1,
    ConfirmPlan = 2,
    Activate = 3,

    /// <summary>Claimed by one activation: a second click or tab finds the claim and does not activate again.</summary>
    Activating = 4,
    Done = 5,
}
