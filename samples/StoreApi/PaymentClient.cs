namespace StoreApi;

/// <summary>A typed client: its HttpClient comes from IHttpClientFactory with the "payment" chain.</summary>
public sealed class PaymentClient(HttpClient http)
{
    /// <summary>Charges an order. The chain adds an idempotency key, so its retries cannot charge twice.</summary>
    public async Task<HttpResponseMessage> ChargeAsync(Order order, CancellationToken cancellationToken)
        => await http.PostAsJsonAsync("charges", order, cancellationToken);
}

/// <summary>An order to charge.</summary>
public sealed record Order(string Id, decimal Amount);
