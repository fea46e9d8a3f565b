// `node -r ./bench/count-promises.js bench/program.js <side> <vms> <dir>`: prints how many promises the whole
// process created. Load-independent, so two programs' SDK work can be compared on a busy machine
// (per VM: run with two fleet sizes and divide the difference).
"use strict";
let promises = 0;
require("async_hooks")
    .createHook({ init: (id, type) => type === "PROMISE" && promises++ })
    .enable();
process.on("exit", () => console.error(JSON.stringify({ promises })));
