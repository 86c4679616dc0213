using System.Buffers.Binary;
using System.IO.Compression;

namespace OutageDemo;

/// <summary>
/// Latency over time for both runs, as a PNG: one panel per run, one dot per user action at its start (payment red, catalog blue),
/// latency on a log scale, the slowdown shaded and labelled, and the fallback answers ("order pending", served at once) as
/// orange crosses in a lane of their own under the plot, so they never read as fast payments. Written with nothing but the
/// base library (zlib and a tiny pixel font).
/// </summary>
internal static class PngChart
{
    private const int Width = 960;
    private const int PanelHeight = 300;
    private const int FallbackLane = 22;
    private const int Left = 70;
    private const int Right = 20;
    private const int Top = 40;
    private const int Gap = 60;
    private static readonly int Height = Top + (2 * PanelHeight) + Gap + 20;

    private static readonly (byte R, byte G, byte B) Payment = (214, 39, 40);
    private static readonly (byte R, byte G, byte B) Catalog = (31, 119, 180);
    private static readonly (byte R, byte G, byte B) Ink = (40, 40, 40);
    private static readonly (byte R, byte G, byte B) Grid = (225, 225, 225);
    private static readonly (byte R, byte G, byte B) Shade = (253, 232, 232);
    private static readonly (byte R, byte G, byte B) Fallback = (255, 127, 14);
    private static readonly (byte R, byte G, byte B) Muted = (120, 120, 120);

    public static void Write(string path, RunResult plain, RunResult chain)
    {
        var pixels = new byte[Width * Height * 3];
        Fill(pixels, 0, 0, Width, Height, (255, 255, 255));
        Text(pixels, Left, 12, "LATENCY OF EACH USER ACTION OVER TIME", Ink, 2);
        Text(pixels, Width - 390, 14, "PAYMENT", Payment, 2);
        Text(pixels, Width - 290, 14, "CATALOG", Catalog, 2);
        Cross(pixels, Width - 180, 21, Fallback);
        Text(pixels, Width - 170, 14, "FALLBACK", Fallback, 2);
        Panel(pixels, Top, "PLAIN HTTPCLIENT", plain);
        Panel(pixels, Top + PanelHeight + Gap, "WITH HTTP.RESILIENCE", chain);
        File.WriteAllBytes(path, Encode(pixels));
    }

    /// <summary>The storm: requests per second the API received, one line per run, the outage shaded.</summary>
    public static void WriteStorm(string path, IReadOnlyList<(string Name, int[] PerSecond)> runs, double outageFrom, double outageUntil)
    {
        (byte R, byte G, byte B)[] colors = [Payment, Fallback, Catalog];
        var pixels = new byte[Width * Height * 3];
        Fill(pixels, 0, 0, Width, Height, (255, 255, 255));
        Text(pixels, Left, 12, "REQUESTS PER SECOND THE API RECEIVED", Ink, 2);
        var plotTop = Top + 30;
        var bottom = Height - 60;
        var plotWidth = Width - Left - Right;
        var seconds = Math.Max(1, runs.Max(r => r.PerSecond.Length));
        var max = Math.Max(100, (int)Math.Ceiling(runs.Max(r => r.PerSecond.DefaultIfEmpty(0).Max()) / 100.0) * 100);
        int X(double s) => Left + (int)(s / seconds * plotWidth);
        int Y(double v) => bottom - (int)(v / max * (bottom - plotTop));

        Fill(pixels, X(outageFrom), plotTop, X(outageUntil) - X(outageFrom), bottom - plotTop, Shade);
        Text(pixels, X(outageFrom) + 6, plotTop + 4, "API DOWN", Payment, 1);
        for (var v = 0; v <= max; v += max / 5)
        {
            Fill(pixels, Left, Y(v), plotWidth, 1, Grid);
            Text(pixels, 8, Y(v) - 3, $"{v}", Ink, 1);
        }

        for (var s = 0; s <= seconds; s += 10)
        {
            Fill(pixels, X(s), bottom, 1, 5, Ink);
            Text(pixels, X(s) - 4, bottom + 8, $"{s}", Ink, 1);
        }

        Text(pixels, Left + (plotWidth / 2) - 60, bottom + 22, "SECONDS SINCE START", Muted, 1);
        Text(pixels, 8, plotTop - 14, "REQUESTS/S", Muted, 1);
        Fill(pixels, Left, bottom, plotWidth, 1, Ink);
        Fill(pixels, Left, plotTop, 1, bottom - plotTop, Ink);
        for (var r = 0; r < runs.Count; r++)
        {
            var (name, perSecond) = runs[r];
            Text(pixels, Left + 10 + (r * 280), Top + 6, name.ToUpperInvariant(), colors[r % colors.Length], 2);
            for (var s = 1; s < perSecond.Length; s++)
            {
                Line(pixels, X(s - 1 + 0.5), Y(perSecond[s - 1]), X(s + 0.5), Y(perSecond[s]), colors[r % colors.Length]);
            }
        }

        File.WriteAllBytes(path, Encode(pixels));
    }

    private static void Line(byte[] pixels, int x0, int y0, int x1, int y1, (byte R, byte G, byte B) color)
    {
        var steps = Math.Max(Math.Abs(x1 - x0), Math.Abs(y1 - y0));
        for (var i = 0; i <= steps; i++)
        {
            var t = steps == 0 ? 0 : (double)i / steps;
            Fill(pixels, (int)(x0 + ((x1 - x0) * t)) - 1, (int)(y0 + ((y1 - y0) * t)) - 1, 2, 2, color);
        }
    }

    private static void Panel(byte[] pixels, int top, string title, RunResult run)
    {
        var plotWidth = Width - Left - Right;
        var bottom = top + PanelHeight - 40 - FallbackLane; // the fallback lane and the time axis sit below the plot
        var plotTop = top + 24;
        var seconds = run.Script.Duration.TotalSeconds;
        int X(double s) => Left + (int)(s / seconds * plotWidth);
        int Y(double ms) => bottom - (int)(Math.Log10(Math.Clamp(ms, 1, 20_000)) / Math.Log10(20_000) * (bottom - plotTop));

        var slowFrom = X(run.Script.SlowFrom.TotalSeconds);
        var slowUntil = X(run.Script.SlowUntil.TotalSeconds);
        Fill(pixels, slowFrom, plotTop, slowUntil - slowFrom, bottom - plotTop, Shade);
        Text(pixels, slowFrom + 6, plotTop + 4, "PAYMENT API SLOW (5 S)", Payment, 1);
        foreach (var (ms, label) in new[] { (10.0, "10 MS"), (100.0, "100 MS"), (1000.0, "1 S"), (10_000.0, "10 S") })
        {
            Fill(pixels, Left, Y(ms), plotWidth, 1, Grid);
            Text(pixels, 8, Y(ms) - 3, label, Ink, 1);
        }

        Text(pixels, 8, plotTop - 12, "LATENCY (LOG SCALE)", Muted, 1);
        Text(pixels, 8, bottom + 8, "FALLBACK", Fallback, 1);
        var axis = bottom + FallbackLane;
        for (var s = 0; s <= (int)seconds; s += 5)
        {
            Fill(pixels, X(s), axis, 1, 5, Ink);
            Text(pixels, X(s) - 4, axis + 8, $"{s}", Ink, 1);
        }

        Text(pixels, Left + (plotWidth / 2) - 60, axis + 20, "SECONDS SINCE START", Muted, 1);
        Fill(pixels, Left, bottom, plotWidth, 1, Ink);
        Fill(pixels, Left, axis, plotWidth, 1, Ink);
        Fill(pixels, Left, plotTop, 1, axis - plotTop, Ink);
        Text(pixels, Left + 8, top - 4, title, Ink, 2);
        var fallbacks = 0;
        foreach (var sample in run.Samples)
        {
            if (sample.Fallback)
            {
                Cross(pixels, X(sample.At.TotalSeconds), bottom + (FallbackLane / 2), Fallback); // answered at once, but not a payment
                fallbacks++;
                continue;
            }

            var color = sample.Checkout ? Payment : Catalog;
            Fill(pixels, X(sample.At.TotalSeconds) - 1, Y(sample.Latency.TotalMilliseconds) - 1, 3, 3, color);
        }

        if (fallbacks == 0 && run.Samples.Any(s => run.Script.InSlowdown(s.At) && s.Latency > TimeSpan.FromSeconds(2)))
        {
            // The plain run's gaps: a dot is drawn where an action starts, and while every server worker waits on the slow
            // payment API, every user is still waiting for an earlier action, so none starts.
            Text(pixels, slowFrom + 6, plotTop + 16, "GAPS: NO ACTION STARTED, EVERY USER WAITED BEHIND PAYMENT", Muted, 1);
        }
    }

    private static void Cross(byte[] pixels, int x, int y, (byte R, byte G, byte B) color)
    {
        for (var d = -3; d <= 3; d++)
        {
            Fill(pixels, x + d, y + d, 1, 1, color);
            Fill(pixels, x + d, y - d, 1, 1, color);
        }
    }

    private static void Fill(byte[] pixels, int x, int y, int w, int h, (byte R, byte G, byte B) color)
    {
        for (var j = Math.Max(0, y); j < Math.Min(Height, y + h); j++)
        {
            for (var i = Math.Max(0, x); i < Math.Min(Width, x + w); i++)
            {
                var o = ((j * Width) + i) * 3;
                pixels[o] = color.R;
                pixels[o + 1] = color.G;
                pixels[o + 2] = color.B;
            }
        }
    }

    private static void Text(byte[] pixels, int x, int y, string text, (byte R, byte G, byte B) color, int scale)
    {
        foreach (var c in text)
        {
            if (Font.TryGetValue(c, out var rows))
            {
                for (var row = 0; row < 7; row++)
                {
                    for (var col = 0; col < 5; col++)
                    {
                        if (rows[row][col] == '#')
                        {
                            Fill(pixels, x + (col * scale), y + (row * scale), scale, scale, color);
                        }
                    }
                }
            }

            x += 6 * scale;
        }
    }

    private static byte[] Encode(byte[] pixels)
    {
        using var raw = new MemoryStream();
        using (var zlib = new ZLibStream(raw, CompressionLevel.Optimal, leaveOpen: true))
        {
            for (var y = 0; y < Height; y++)
            {
                zlib.WriteByte(0); // filter: none
                zlib.Write(pixels, y * Width * 3, Width * 3);
            }
        }

        using var png = new MemoryStream();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, Width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), Height);
        header[8] = 8; // bit depth
        header[9] = 2; // colour type: RGB
        Chunk(png, "IHDR", header);
        Chunk(png, "IDAT", raw.ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void Chunk(Stream png, string type, byte[] data)
    {
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        png.Write(length);
        var typeBytes = System.Text.Encoding.ASCII.GetBytes(type);
        png.Write(typeBytes);
        png.Write(data);
        var crc = Crc32(typeBytes, data);
        BinaryPrimitives.WriteUInt32BigEndian(length, crc);
        png.Write(length);
    }

    private static uint Crc32(byte[] type, byte[] data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in type.Concat(data))
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
            }
        }

        return crc ^ 0xFFFFFFFFu;
    }

    private static readonly Dictionary<char, string[]> Font = new()
    {
        ['A'] = [".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"],
        ['C'] = [".###.", "#...#", "#....", "#....", "#....", "#...#", ".###."],
        ['E'] = ["#####", "#....", "#....", "####.", "#....", "#....", "#####"],
        ['F'] = ["#####", "#....", "#....", "####.", "#....", "#....", "#...."],
        ['G'] = [".###.", "#...#", "#....", "#.###", "#...#", "#...#", ".####"],
        ['H'] = ["#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"],
        ['I'] = [".###.", "..#..", "..#..", "..#..", "..#..", "..#..", ".###."],
        ['L'] = ["#....", "#....", "#....", "#....", "#....", "#....", "#####"],
        ['M'] = ["#...#", "##.##", "#.#.#", "#.#.#", "#...#", "#...#", "#...#"],
        ['N'] = ["#...#", "##..#", "#.#.#", "#..##", "#...#", "#...#", "#...#"],
        ['O'] = [".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."],
        ['P'] = ["####.", "#...#", "#...#", "####.", "#....", "#....", "#...."],
        ['R'] = ["####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#"],
        ['S'] = [".####", "#....", "#....", ".###.", "....#", "....#", "####."],
        ['T'] = ["#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."],
        ['U'] = ["#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."],
        ['V'] = ["#...#", "#...#", "#...#", "#...#", "#...#", ".#.#.", "..#.."],
        ['W'] = ["#...#", "#...#", "#...#", "#.#.#", "#.#.#", "##.##", "#...#"],
        ['Y'] = ["#...#", "#...#", ".#.#.", "..#..", "..#..", "..#..", "..#.."],
        ['0'] = [".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."],
        ['1'] = ["..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."],
        ['2'] = [".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"],
        ['3'] = ["####.", "....#", "....#", ".###.", "....#", "....#", "####."],
        ['4'] = ["...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."],
        ['5'] = ["#####", "#....", "####.", "....#", "....#", "#...#", ".###."],
        ['6'] = [".###.", "#....", "#....", "####.", "#...#", "#...#", ".###."],
        ['7'] = ["#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."],
        ['8'] = [".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."],
        ['9'] = [".###.", "#...#", "#...#", ".####", "....#", "....#", ".###."],
        ['.'] = [".....", ".....", ".....", ".....", ".....", ".##..", ".##.."],
        ['B'] = ["####.", "#...#", "#...#", "####.", "#...#", "#...#", "####."],
        ['D'] = ["####.", "#...#", "#...#", "#...#", "#...#", "#...#", "####."],
        ['K'] = ["#...#", "#..#.", "#.#..", "##...", "#.#..", "#..#.", "#...#"],
        ['X'] = ["#...#", "#...#", ".#.#.", "..#..", ".#.#.", "#...#", "#...#"],
        ['Z'] = ["#####", "....#", "...#.", "..#..", ".#...", "#....", "#####"],
        ['J'] = ["..###", "...#.", "...#.", "...#.", "...#.", "#..#.", ".##.."],
        ['Q'] = [".###.", "#...#", "#...#", "#...#", "#.#.#", "#..#.", ".##.#"],
        ['('] = ["...#.", "..#..", ".#...", ".#...", ".#...", "..#..", "...#."],
        [')'] = [".#...", "..#..", "...#.", "...#.", "...#.", "..#..", ".#..."],
        [','] = [".....", ".....", ".....", ".....", ".##..", "..#..", ".#..."],
        [':'] = [".....", ".##..", ".##..", ".....", ".##..", ".##..", "....."],
        ['-'] = [".....", ".....", ".....", "#####", ".....", ".....", "....."],
        ['/'] = ["....#", "...#.", "...#.", "..#..", ".#...", ".#...", "#...."],
        [' '] = [".....", ".....", ".....", ".....", ".....", ".....", "....."],
    };
}
