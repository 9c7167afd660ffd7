export { ContentStore } from "./content-store.js";
export type { ContentWriter, Expected } from "./content-store.js";
