// A real PowerShell grammar (tree-sitter-powershell, WASM build) for syntax checks.
import { readFileSync } from "fs";
import { Language, Node, Parser } from "web-tree-sitter";

let parser: Parser | undefined;

export async function powershellParser(): Promise<Parser> {
    if (!parser) {
        await Parser.init();
        // Bytes, not a path: loading by path needs dynamic import(), which jest does not allow.
        const language = await Language.load(readFileSync(require.resolve("tree-sitter-powershell/tree-sitter-powershell.wasm")));
        parser = new Parser();
        parser.setLanguage(language);
    }
    return parser;
}

/** `line:column type` of every ERROR or MISSING node: empty for valid PowerShell. */
export async function syntaxProblems(source: string): Promise<string[]> {
    const tree = (await powershellParser()).parse(source);
    if (!tree) {
        throw new Error("parser returned no tree");
    }
    const problems: string[] = [];
    const visit = (node: Node) => {
        if (node.type === "ERROR" || node.isMissing) {
            problems.push(`${node.startPosition.row + 1}:${node.startPosition.column + 1} ${node.isMissing ? "MISSING " : ""}${node.type} ${JSON.stringify(node.text.slice(0, 60))}`);
        }
        node.children.forEach((child) => child && visit(child));
    };
    visit(tree.rootNode);
    return problems;
}
