// Windows PowerShell 5.1 compatibility by the tree-sitter-powershell grammar (which knows 5.1's syntax): what PowerShell 7
// added either does not parse in it (an ERROR node, named here by its text) or is a pipeline chain (&&, ||); 7-only
// cmdlets, parameters and automatic variables are found by walking the command and variable nodes.
import { Node } from "web-tree-sitter";
import { powershellParser } from "./powershell";

/** Cmdlets that Windows PowerShell 5.1 does not have. */
const SEVEN_ONLY_COMMANDS = ["Get-Error", "Join-String", "Test-Json", "Get-Uptime", "ConvertFrom-Markdown", "Show-Markdown", "Get-MarkdownOption", "Set-MarkdownOption", "Remove-Alias", "Remove-Service", "Get-PSSubsystem", "Enable-ExperimentalFeature", "Get-ExperimentalFeature"];

/** Parameters PowerShell 6/7 added to cmdlets 5.1 has (ForEach-Object's aliases included). */
const SEVEN_ONLY_PARAMETERS: Record<string, string[]> = {
    "foreach-object": ["Parallel", "ThrottleLimit", "TimeoutSeconds", "AsJob", "UseNewRunspace"],
    "convertto-json": ["AsArray", "EnumsAsStrings", "EscapeHandling"],
    "convertfrom-json": ["AsHashtable", "Depth", "NoEnumerate", "DateKind"],
    "test-connection": ["TcpPort", "TargetName", "Ping", "Repeat", "MtuSize", "Traceroute", "Detailed", "IPv4", "IPv6", "ResolveDestination", "TimeoutSeconds"],
    "invoke-webrequest": ["SkipCertificateCheck", "NoProxy", "Authentication", "SslProtocol", "StatusCodeVariable", "SkipHttpErrorCheck", "Resume", "RetryIntervalSec", "MaximumRetryCount", "ResponseHeadersVariable", "Token", "SkipHeaderValidation", "AllowUnencryptedAuthentication", "HttpVersion", "PreserveAuthorizationOnRedirect", "ConnectionTimeoutSeconds"],
    "get-content": ["AsByteStream"],
    "set-content": ["AsByteStream"],
    "add-content": ["AsByteStream"],
    "start-process": ["Environment"],
    "select-string": ["Raw", "NoEmphasis"],
    "split-path": ["Extension", "LeafBase"],
    "import-module": ["UseWindowsPowerShell", "SkipEditionCheck"],
    "get-childitem": ["FollowSymlink"],
    "out-file": [],
};
SEVEN_ONLY_PARAMETERS["invoke-restmethod"] = SEVEN_ONLY_PARAMETERS["invoke-webrequest"];
for (const alias of ["%", "foreach"]) SEVEN_ONLY_PARAMETERS[alias] = SEVEN_ONLY_PARAMETERS["foreach-object"];

/** Automatic variables that do not exist in 5.1 (under strict mode, reading one fails). */
const SEVEN_ONLY_VARIABLES = ["IsWindows", "IsLinux", "IsMacOS", "IsCoreCLR", "PSStyle", "PSNativeCommandArgumentPassing", "PSNativeCommandUseErrorActionPreference"];

/** Every construct in `source` that Windows PowerShell 5.1 cannot run, as `line:column what`. Empty: 5.1 runs it. */
export async function powershell7Only(source: string): Promise<string[]> {
    const tree = (await powershellParser()).parse(source);
    if (!tree) {
        throw new Error("parser returned no tree");
    }
    const found: string[] = [];
    const at = (node: Node, what: string) => found.push(`${node.startPosition.row + 1}:${node.startPosition.column + 1} ${what}`);
    const visit = (node: Node) => {
        if (node.type === "ERROR" || node.isMissing) {
            at(node, `not 5.1 syntax: ${nameSyntax(node, source)}`);
        } else if (node.type === "pipeline_chain_tail") {
            at(node, `pipeline chain ${node.text.trim() || "&& or ||"} (PowerShell 7)`);
        } else if (node.type === "command") {
            const name = node.childForFieldName("command_name")?.text ?? "";
            if (SEVEN_ONLY_COMMANDS.some((c) => c.toLowerCase() === name.toLowerCase())) {
                at(node, `cmdlet ${name} (PowerShell 7)`);
            }
            const sevenOnly = SEVEN_ONLY_PARAMETERS[name.toLowerCase()] ?? [];
            for (const parameter of node.descendantsOfType("command_parameter")) {
                const given = (parameter?.text ?? "").replace(/^-/, "").replace(/:$/, "").toLowerCase();
                const match = sevenOnly.find((p) => given.length >= 3 && p.toLowerCase().startsWith(given));
                if (match) at(parameter!, `${name} -${match} (PowerShell 7)`);
                if (given === "parallel") at(parameter!, `-Parallel (PowerShell 7)`);
            }
        } else if (node.type === "variable") {
            const name = node.text.replace(/^\$(global:|script:)?/i, "").replace(/^\{|\}$/g, "");
            if (SEVEN_ONLY_VARIABLES.some((v) => v.toLowerCase() === name.toLowerCase())) {
                at(node, `automatic variable $${name} (PowerShell 7)`);
            }
        }
        for (const child of node.children) {
            if (child) visit(child);
        }
    };
    visit(tree.rootNode);
    return found;
}

// What PowerShell 7 syntax an ERROR node is, from the text around it.
function nameSyntax(node: Node, source: string): string {
    const around = source.slice(Math.max(0, node.startIndex - 2), node.endIndex + 3);
    if (/\?\?=/.test(around)) return "??= (null-coalescing assignment)";
    if (/\?\?/.test(around)) return "?? (null coalescing)";
    if (/\?\.|\?\[/.test(around)) return "?. or ?[] (null-conditional access)";
    if (/\?/.test(around)) return "? : (ternary)";
    if (/\bclean\b/i.test(around)) return "clean block";
    if (/&\s*$/.test(around)) return "& at the end of a pipeline (background job)";
    return JSON.stringify(node.text.slice(0, 40));
}
