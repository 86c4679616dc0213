Console.WriteLine("Http.Resilience outage demo: coming soon (the samples issue replays the 2:47 PM outage here).");
return 0;
