using System.Net;
using System.Text;
using Http.Resilience.Tests.Helpers;

namespace Http.Resilience.Tests.Regressions;

/// <summary>
/// The stale-if-error cache kept responses that belonged to one user (the request carried credentials or cookies; the
/// response was private, set a cookie or varied by request header), so a later failure could serve them to anyone. Only
/// responses that are nobody's in particular are kept.
/// </summary>
public sealed class PersonalResponsesKeptForStaleFallbackTests
{
    [Theory]
    [InlineData("authorization")]
    [InlineData("cookie")]
    [InlineData("set-cookie")]
    [InlineData("private")]
    [InlineData("vary")]
    public async Task Get_PersonalResponses_AreNeverKept(string what)
    {
        using var h = new ChainHarness(o =>
        {
            o.Fallback.Enabled = true;
            o.Retry.BaseDelay = TimeSpan.Zero;
            o.CircuitBreaker.MinimumThroughput = 100;
        });
        h.Stub.Then((_, _) =>
        {
            var ok = new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("personal", Encoding.UTF8, "application/json") };
            switch (what)
            {
                case "set-cookie": ok.Headers.Add("Set-Cookie", "session=abc"); break;
                case "private": ok.Headers.CacheControl = new System.Net.Http.Headers.CacheControlHeaderValue { Private = true }; break;
                case "vary": ok.Headers.Vary.Add("Accept-Language"); break;
            }

            return Task.FromResult(ok);
        });
        using var request = new HttpRequestMessage(HttpMethod.Get, "/me");
        if (what == "authorization")
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "token");
        }
        else if (what == "cookie")
        {
            request.Headers.Add("Cookie", "session=abc");
        }

        using var response = await h.CreateClient().SendAsync(request);

        Assert.Equal(0, h.Registry.GetOrAddStaleCache(ChainHarness.ClientName).Count);
    }
}
