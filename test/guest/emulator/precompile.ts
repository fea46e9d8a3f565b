// pwsh's NuGet tool package ships IL only, so every run JIT-compiles the PowerShell engine again (~1.3 CPU-s before the
// first line of a script). The suite runs pwsh 68 times on 2 cores: it runs a ReadyToRun copy instead, the same
// assemblies of the same version precompiled by crossgen2 (the .NET SDK's own AOT compiler) for the installed runtime.
// The engine's behaviour is unchanged; only the JIT work moves from each run to this one-time build, cached under
// node_modules/.cache. Without crossgen2 (no NuGet access), the suite runs the tool's pwsh as shipped, only slower.
import { spawnSync } from "child_process";
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from "fs";
import { homedir, tmpdir } from "os";
import * as path from "path";

const ROOT = path.join(__dirname, "..", "..", "..");
/** The tool's own assemblies a run of the guest script loads (the .NET runtime's are ReadyToRun already). */
const ASSEMBLIES = [
    "System.Management.Automation",
    "Microsoft.ApplicationInsights",
    "Microsoft.PowerShell.MarkdownRender",
    "runtimes/unix/lib/netstandard1.6/Microsoft.Management.Infrastructure",
    "Microsoft.PowerShell.Commands.Utility",
    "Microsoft.PowerShell.Commands.Management",
    "Microsoft.PowerShell.ConsoleHost",
    "Microsoft.PowerShell.Security",
    "Newtonsoft.Json",
    "pwsh",
];

function runtimeVersion(): { version: string; dir: string } | undefined {
    const list = spawnSync("dotnet", ["--list-runtimes"], { encoding: "utf8" });
    const line = (list.stdout ?? "").split("\n").filter((l) => l.startsWith("Microsoft.NETCore.App ")).pop();
    const m = line && /^Microsoft\.NETCore\.App (\S+) \[(.+)\]$/.exec(line.trim());
    return m ? { version: m[1], dir: path.join(m[2], m[1]) } : undefined;
}

function crossgen2(version: string): string | undefined {
    const packages = process.env.NUGET_PACKAGES ?? path.join(homedir(), ".nuget", "packages");
    const tool = path.join(packages, "microsoft.netcore.app.crossgen2.linux-x64", version, "tools", "crossgen2");
    if (!existsSync(tool)) {
        // The ordinary NuGet client fetches it (PackageDownload only: nothing is built), from a scratch copy of the
        // project so that restore leaves no obj/ in the repository.
        const scratch = mkdtempSync(path.join(tmpdir(), "kms-crossgen-"));
        copyFileSync(path.join(__dirname, "crossgen", "crossgen.csproj"), path.join(scratch, "crossgen.csproj"));
        spawnSync("dotnet", ["restore", path.join(scratch, "crossgen.csproj"), `-p:CrossgenVersion=${version}`], { stdio: "ignore" });
        rmSync(scratch, { recursive: true, force: true });
    }
    return existsSync(tool) ? tool : undefined;
}

/** The ReadyToRun copy of the pwsh at `pwsh` (built once), or `pwsh` itself when it cannot be built here. */
export function precompiledPwsh(pwsh: string): string {
    if (process.arch !== "x64" || process.platform !== "linux") return pwsh;
    const runtime = runtimeVersion();
    if (!runtime) return pwsh;
    const source = path.dirname(pwsh);
    const version = path.basename(path.resolve(source, "..", "..", "..", ".."));
    const target = path.join(ROOT, "node_modules", ".cache", "kms-guest-pwsh", `${version}-net${runtime.version}`);
    const done = path.join(target, ".ready");
    if (existsSync(done)) return path.join(target, "pwsh");
    const tool = crossgen2(runtime.version);
    if (!tool) return pwsh;
    const building = `${target}.${process.pid}`;
    rmSync(building, { recursive: true, force: true });
    mkdirSync(path.dirname(target), { recursive: true });
    cpSync(source, building, { recursive: true });
    const references = [path.join(runtime.dir, "*.dll"), path.join(source, "*.dll"), path.join(source, "runtimes", "unix", "lib", "netstandard1.6", "*.dll")];
    for (const assembly of ASSEMBLIES) {
        const out = path.join(building, `${path.basename(assembly)}.r2r`);
        const compiled = spawnSync(
            tool,
            [path.join(source, `${assembly}.dll`), "-o", out, "--targetos", "linux", "--targetarch", "x64", "-O", ...references.flatMap((r) => ["-r", r])],
            { encoding: "utf8" },
        );
        if (compiled.status !== 0) {
            rmSync(building, { recursive: true, force: true });
            return pwsh;
        }
        copyFileSync(out, path.join(building, `${assembly}.dll`));
        rmSync(out);
    }
    writeFileSync(path.join(building, ".ready"), `${readdirSync(building).length} files, ${ASSEMBLIES.join(", ")} precompiled\n`);
    rmSync(target, { recursive: true, force: true });
    try {
        renameSync(building, target);
    } catch {
        rmSync(building, { recursive: true, force: true }); // another jest worker finished first
    }
    return existsSync(done) ? path.join(target, "pwsh") : pwsh;
}
