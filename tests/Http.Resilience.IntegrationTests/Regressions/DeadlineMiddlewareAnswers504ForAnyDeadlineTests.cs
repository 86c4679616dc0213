using System.Net;
using Http.Resilience.IntegrationTests.Helpers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Http.Resilience.IntegrationTests.Regressions;

/// <summary>
/// The incoming deadline middleware answered 504 for any <see cref="DeadlineExceededException"/>, also one from an outgoing
/// client's own, shorter deadline while the request being served still had time. Only the request's own deadline is a 504;
/// any other failure stays what it is.
/// </summary>
public sealed class DeadlineMiddlewareAnswers504ForAnyDeadlineTests
{
    [Fact]
    public async Task OutgoingClientsOwnDeadlineRunsOut_TheRequestWithTimeLeftIsNotA504()
    {
        await using var slow = await LoopbackServer.StartAsync((ctx, _) => LoopbackServer.DelayAsync(ctx, TimeSpan.FromSeconds(10)));
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddHttpClient("slow", c => c.BaseAddress = slow.BaseAddress).AddHttpResilience(o =>
        {
            o.Deadline = o.AttemptTimeout = TimeSpan.FromMilliseconds(200); // the client's own budget: far shorter than the request's
            o.Retry.Enabled = false;
        });
        await using var app = builder.Build();
        app.UseDeadlinePropagation();
        app.MapGet("/work", async (IHttpClientFactory factory) =>
        {
            using var response = await factory.CreateClient("slow").GetAsync("/"); // its DeadlineExceededException escapes
            return Results.Ok();
        }).WithDeadline(TimeSpan.FromSeconds(20));
        await app.StartAsync();
        using var user = new HttpClient { BaseAddress = new Uri(app.Urls.First() + "/"), Timeout = TimeSpan.FromSeconds(30) };

        using var response = await user.GetAsync("work");

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode); // a failure of this service, not a spent deadline
        Assert.Equal(1, slow.Hits);
    }
}
