using StoreApi;

// dotnet run --project samples/StoreApi   (dependencies are expected at the addresses in appsettings.json)
var app = StoreApiApp.Build(args);
await app.RunAsync();
