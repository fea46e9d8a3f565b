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

/** Cmdlets PowerShell 3.0 or later added (2.0, 2008 R2's default shell, has none of them). */
const THREE_PLUS_COMMANDS = ["ConvertFrom-Json", "ConvertTo-Json", "Invoke-RestMethod", "Invoke-WebRequest", "Get-CimInstance", "Invoke-CimMethod", "New-CimSession", "Get-CimClass", "Remove-CimInstance", "Set-CimInstance", "Unblock-File", "Get-FileHash", "New-TemporaryFile", "Get-Clipboard", "Set-Clipboard", "Format-Hex", "Expand-Archive", "Compress-Archive", "Get-ScheduledTask", "Register-ScheduledTask", "Resolve-DnsName", "Test-NetConnection", "Get-NetFirewallRule"];
/** Parameters added after 2.0 to cmdlets 2.0 has. */
const THREE_PLUS_PARAMETERS: Record<string, string[]> = {
    "get-content": ["Raw", "Stream"],
    "out-file": ["NoNewline"],
    "set-content": ["NoNewline"],
    "select-object": ["Skip"],
    "start-process": [],
};
/** Automatic variables 2.0 does not set in a script ($PSScriptRoot only in modules there). */
const THREE_PLUS_VARIABLES = ["PSItem", "PSScriptRoot", "PSCommandPath", "PSSenderInfo", "PSDefaultParameterValues"];

/**
 * The 2.0 profile: every construct in `source` that Windows PowerShell 2.0 cannot parse or run, as `line:column what`,
 * on top of everything 5.1 cannot (`powershell7Only`). The syntax 3.0-5.0 added (`[ordered]`, `-in`/`-notin`,
 * `-shl`/`-shr`, `[pscustomobject]`, `$using:`, `::new(`, `.ForEach(`/`.Where(`), the cmdlets, parameters and automatic
 * variables above. What this cannot see: member enumeration and other 3.0 semantics that parse the same in 2.0, and
 * class/enum definitions (this grammar does not name them apart): keep them out of the bootstrap. A here-string's
 * content is a string to it: the body stays unchecked.
 */
export async function powershell2Problems(source: string): Promise<string[]> {
    const found = await powershell7Only(source);
    const tree = (await powershellParser()).parse(source);
    if (!tree) {
        throw new Error("parser returned no tree");
    }
    const at = (node: Node, what: string) => found.push(`${node.startPosition.row + 1}:${node.startPosition.column + 1} ${what}`);
    const visit = (node: Node) => {
        const text = node.text;
        if (/string_literal|here_string|expandable|verbatim/.test(node.type)) {
            return; // a string's content is not code here
        }
        if (node.childCount === 0 && /^-(not)?in$|^-sh[lr]$/i.test(text)) {
            at(node, `operator ${text} (PowerShell 3.0)`);
        } else if (node.type === "type_literal" && /^\[\s*(ordered|pscustomobject)\s*\]$/i.test(text)) {
            at(node, `${text} (PowerShell 3.0)`);
        } else if (node.type === "member_name" && /^(new|ForEach|Where)$/i.test(text) && node.parent && /invokation|invocation/.test(node.parent.type)) {
            at(node, `.${text}() (PowerShell 4.0-5.0)`);
        } else if (node.type === "command") {
            const name = node.childForFieldName("command_name")?.text ?? "";
            if (THREE_PLUS_COMMANDS.some((c) => c.toLowerCase() === name.toLowerCase())) {
                at(node, `cmdlet ${name} (PowerShell 3.0 or later)`);
            }
            const later = THREE_PLUS_PARAMETERS[name.toLowerCase()] ?? [];
            for (const parameter of node.descendantsOfType("command_parameter")) {
                const given = (parameter?.text ?? "").replace(/^-/, "").replace(/:$/, "").toLowerCase();
                const match = later.find((p) => given.length >= 2 && p.toLowerCase().startsWith(given));
                if (match) at(parameter!, `${name} -${match} (PowerShell 3.0 or later)`);
            }
        } else if (node.type === "variable") {
            if (/^\$using:/i.test(text)) at(node, `${text} (PowerShell 3.0)`);
            const name = text.replace(/^\$(global:|script:)?/i, "").replace(/^\{|\}$/g, "");
            if (THREE_PLUS_VARIABLES.some((v) => v.toLowerCase() === name.toLowerCase())) {
                at(node, `automatic variable $${name} (PowerShell 3.0)`);
            }
        }
        for (const child of node.children) {
            if (child) visit(child);
        }
    };
    visit(tree.rootNode);
    return found;
}
