/** A Windows Server edition that has its own KMS client setup key. Core and Desktop Experience share a key. */
export enum ServerEdition {
    Standard = "Standard",
    Datacenter = "Datacenter",
    DatacenterAzureEdition = "DatacenterAzureEdition",
    Essentials = "Essentials",
    Enterprise = "Enterprise",
}

/** One Windows Server release: how the guest recognises it and its KMS client setup keys (GVLKs). */
export interface WindowsServerRelease {
    /** Marketing version, also the first part of its marketplace SKU strings (`2012-r2`). */
    readonly version: string;
    /** `Win32_OperatingSystem.BuildNumber` of the release. */
    readonly build: number;
    /** GVLK per edition; an edition missing here has no KMS client key for this release. */
    readonly keys: Readonly<Partial<Record<ServerEdition, string>>>;
}

/**
 * The KMS client setup keys of Windows Server, from Microsoft's "KMS client activation keys" page.
 * The only copy in the product: the guest's detection table is rendered from it.
 */
export const windowsServerReleases: readonly WindowsServerRelease[] = [
    {
        version: "2025",
        build: 26100,
        keys: {
            Standard: "TVRH6-WHNXV-R9WG3-9XRFY-MY832",
            Datacenter: "D764K-2NDRG-47T6Q-P8T8W-YP6DF",
            DatacenterAzureEdition: "XGN3F-F394H-FD2MY-PP6FD-8MCRC",
        },
    },
    {
        version: "2022",
        build: 20348,
        keys: {
            Standard: "VDYBN-27WPP-V4HQT-9VMD4-VMK7H",
            Datacenter: "WX4NM-KYWYW-QJJR4-XV3QB-6VM33",
            DatacenterAzureEdition: "NTBV8-9K7Q8-V27C6-M2BTV-KHMXV",
        },
    },
    {
        version: "2019",
        build: 17763,
        keys: {
            Standard: "N69G4-B89J2-4G8F4-WWYCC-J464C",
            Datacenter: "WMDGN-G9PQG-XVVXX-R3X43-63DFG",
            Essentials: "WVDHN-86M7X-466P6-VHXV7-YY726",
        },
    },
    {
        version: "2016",
        build: 14393,
        keys: {
            Standard: "WC2BQ-8NRM3-FDDYY-2BFGV-KHKQY",
            Datacenter: "CB7KF-BWN84-R7R2Y-793K2-8XDDG",
            Essentials: "JCKRF-N37P4-C2D82-9YXRT-4M63B",
        },
    },
    {
        version: "2012-r2",
        build: 9600,
        keys: {
            Standard: "D2N9P-3P6X9-2R39C-7RTCD-MDVJX",
            Datacenter: "W3GGN-FT8W3-Y4M27-J84CP-Q3VJ9",
            Essentials: "KNC87-3J2TX-XB4WP-VCPJV-M4FWM",
        },
    },
    {
        version: "2012",
        build: 9200,
        keys: {
            Standard: "XC9B7-NBPP2-83J2H-RHMBY-92BT4",
            Datacenter: "48HP8-DN98B-MYWDG-T2DCC-8W83P",
            Essentials: "HTDQM-NBMMG-KGYDT-2DTKT-J2MPV",
        },
    },
    {
        version: "2008-r2",
        build: 7601,
        keys: {
            Standard: "YC6KT-GKW9T-YTKYR-T4X34-R7VHC",
            Datacenter: "74YFP-3QFB3-KQT8W-PMXWJ-7M648",
            Enterprise: "489J6-VHDMP-X63PK-3K798-CPX3Y",
        },
    },
];

// Marketplace SKU words that name a variant of the image (disk size, generation, language, patching)
// rather than an edition: they never change the key.
const VARIANT_WORDS = new Set(["core", "server", "smalldisk", "g2", "gensecond", "gs", "hotpatch", "with", "containers", "zhcn", "sp1"]);

/**
 * The GVLK for a Windows Server marketplace SKU (publisher MicrosoftWindowsServer, offer WindowsServer),
 * for example `2022-datacenter-azure-edition-core-smalldisk`; `undefined` when the SKU is not one whose
 * edition it can tell for certain (the guest then detects the edition itself).
 */
export function kmsClientKeyForSku(sku: string): string | undefined {
    const normalized = sku.trim().toLowerCase();
    const release = [...windowsServerReleases]
        // Longest version first, so "2012-r2-..." is not read as "2012".
        .sort((a, b) => b.version.length - a.version.length)
        .find((r) => normalized === r.version || normalized.startsWith(`${r.version}-`));
    if (!release) {
        return undefined;
    }
    const words = normalized.slice(release.version.length).split("-").filter((w) => w !== "");
    const edition = editionOfSkuWords(words);
    return edition === undefined ? undefined : release.keys[edition];
}

function editionOfSkuWords(words: string[]): ServerEdition | undefined {
    let edition = ServerEdition.Datacenter;
    for (let i = 0; i < words.length; i++) {
        const word = words[i];
        if (word === "azure" && words[i + 1] === "edition") {
            edition = ServerEdition.DatacenterAzureEdition;
            i++;
        } else if (word === "standard") {
            edition = ServerEdition.Standard;
        } else if (word === "essentials") {
            edition = ServerEdition.Essentials;
        } else if (word !== "datacenter" && !VARIANT_WORDS.has(word)) {
            return undefined;
        }
    }
    return edition;
}

/**
 * KMS client setup keys of Windows client editions (Microsoft's "KMS client activation keys" page) and of Windows
 * 10/11 Enterprise multi-session (build 17763 and later; not on that page, from third-party lists). Only used to
 * recognise a given `productKey` as a KMS client key: the guest installs a client key only when it is given.
 */
export const windowsClientKeys: Readonly<Record<string, string>> = {
    "Windows 10/11 Enterprise": "NPPR9-FWDCX-D2C8J-H872K-2YT43",
    "Windows 10/11 Pro": "W269N-WFGWX-YVC9B-4J6C9-T83GX",
    "Windows 10/11 Education": "NW6C2-QMPVW-D7KKK-3GKT6-VCFB2",
    "Windows 10/11 Enterprise LTSC 2019/2021/2024": "M7XTQ-FN8P6-TTKYV-9D4CC-J462D",
    "Windows 10/11 Enterprise multi-session": "CPWHC-NT2C7-VYW78-DHDB2-PG3GK",
};

const EDITION_NAMES: Record<ServerEdition, string> = {
    Standard: "Standard",
    Datacenter: "Datacenter",
    DatacenterAzureEdition: "Datacenter: Azure Edition",
    Essentials: "Essentials",
    Enterprise: "Enterprise",
};

let productsByKey: Map<string, string> | undefined;

/**
 * The product a KMS client setup key (GVLK) belongs to, such as `Windows Server 2022 Datacenter`; undefined for any
 * other key (MAK, retail, OEM, made up). Names the product, never the key, so messages can use it.
 */
export function kmsClientKeyProduct(key: string): string | undefined {
    productsByKey ??= new Map([
        ...windowsServerReleases.flatMap((release) =>
            Object.entries(release.keys).map(([edition, k]) => [k, `Windows Server ${release.version.toUpperCase().replace("-", " ")} ${EDITION_NAMES[edition as ServerEdition]}`] as [string, string]),
        ),
        ...Object.entries(windowsClientKeys).map(([product, k]) => [k, product] as [string, string]),
    ]);
    return typeof key === "string" ? productsByKey.get(key.trim().toUpperCase()) : undefined;
}
