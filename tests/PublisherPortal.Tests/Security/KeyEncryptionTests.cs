using Dapper;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using PublisherPortal.Data;
using PublisherPortal.Tests.Support;

namespace PublisherPortal.Tests.Security;

/// <summary>The Data Protection keys in the database are encrypted with the configured certificate, and still work.</summary>
public sealed class KeyEncryptionTests : IAsyncLifetime
{
    private TestDatabase _db = default!;

    public async Task InitializeAsync() => _db = await TestDatabase.CreateAsync();

    public async Task DisposeAsync() => await _db.DisposeAsync();

    [Fact]
    public async Task With_a_certificate_the_stored_keys_are_encrypted_and_another_instance_reads_them()
    {
        var settings = new Dictionary<string, string?> { ["DataProtection:CertificatePath"] = RealModeTestSettings.CertificatePath };
        using var first = Host(settings);
        var cookie = first.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("cookie").Protect("signed in");

        var stored = await StoredKeysAsync();
        Assert.NotEmpty(stored);
        Assert.All(stored, xml =>
        {
            Assert.Contains("EncryptedData", xml);
            Assert.DoesNotContain("<value>", xml);
        });

        using var second = Host(settings);
        Assert.Equal("signed in", second.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("cookie").Unprotect(cookie));
    }

    [Fact]
    public async Task Without_a_certificate_demo_mode_stores_keys_readable_which_is_why_real_mode_requires_one()
    {
        using var host = Host(new Dictionary<string, string?>());
        host.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("cookie").Protect("signed in");

        Assert.All(await StoredKeysAsync(), xml => Assert.Contains("<value>", xml));
    }

    [Fact]
    public void A_certificate_that_cannot_be_read_stops_start_up_naming_the_setting()
    {
        var failure = Assert.Throws<InvalidOperationException>(() =>
            Host(new Dictionary<string, string?> { ["DataProtection:CertificatePath"] = "/nowhere/keys.pfx" }));

        Assert.Contains("DataProtection:CertificatePath '/nowhere/keys.pfx'", failure.Message);
    }

    private IHost Host(Dictionary<string, string?> settings)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Production" });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddSingleton(_db.Database);
        builder.AddSharedDataProtection();
        return builder.Build();
    }

    private async Task<List<string>> StoredKeysAsync()
    {
        await using var connection = await _db.Database.OpenAsync();
        return (await connection.QueryAsync<string>("SELECT xml FROM data_protection_keys")).ToList();
    }
}
