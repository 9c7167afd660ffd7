import { randomInt } from "node:crypto";
import { invalidArgument } from "../errdefs/index.js";

const NAME_RE = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** "/name" for a valid name; invalid-argument with Docker's wording otherwise. */
export function validateName(name: string): string {
  if (!NAME_RE.test(name)) throw invalidArgument(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  return name.startsWith("/") ? name : `/${name}`;
}

const LEFT = [
  "admiring", "adoring", "affectionate", "agitated", "amazing", "angry", "awesome", "beautiful", "blissful", "bold",
  "brave", "busy", "charming", "clever", "compassionate", "competent", "condescending", "confident", "cool", "cranky",
  "crazy", "dazzling", "determined", "distracted", "dreamy", "eager", "ecstatic", "elastic", "elated", "elegant",
  "eloquent", "epic", "exciting", "fervent", "festive", "flamboyant", "focused", "friendly", "frosty", "funny",
  "gallant", "gifted", "goofy", "gracious", "great", "happy", "hardcore", "heuristic", "hopeful", "hungry",
  "infallible", "inspiring", "intelligent", "interesting", "jolly", "jovial", "keen", "kind", "laughing", "loving",
  "lucid", "magical", "modest", "musing", "mystifying", "naughty", "nervous", "nice", "nifty", "nostalgic",
  "objective", "optimistic", "peaceful", "pedantic", "pensive", "practical", "priceless", "quirky", "quizzical", "recursing",
  "relaxed", "reverent", "romantic", "sad", "serene", "sharp", "silly", "sleepy", "stoic", "strange",
  "stupefied", "suspicious", "sweet", "tender", "thirsty", "trusting", "unruffled", "upbeat", "vibrant", "vigilant",
  "vigorous", "wizardly", "wonderful", "xenodochial", "youthful", "zealous", "zen",
];

const RIGHT = [
  "agnesi", "albattani", "allen", "almeida", "archimedes", "ardinghelli", "aryabhata", "austin", "babbage", "banach",
  "bardeen", "bartik", "bassi", "bell", "benz", "bhabha", "bhaskara", "blackwell", "bohr", "booth",
  "borg", "bose", "boyd", "brahmagupta", "brattain", "brown", "carson", "cerf", "chandrasekhar", "chatelet",
  "chaum", "clarke", "colden", "cori", "cray", "curie", "darwin", "davinci", "diffie", "dijkstra",
  "dubinsky", "easley", "einstein", "elion", "engelbart", "euclid", "euler", "faraday", "feistel", "fermat",
  "fermi", "feynman", "franklin", "gagarin", "galileo", "gates", "gauss", "germain", "goldberg", "goldstine",
  "goodall", "hamilton", "haslett", "hawking", "heisenberg", "hellman", "hertz", "hodgkin", "hopper", "hugle",
  "hypatia", "jackson", "jang", "jemison", "jennings", "johnson", "joliot", "kalam", "keller", "kepler",
  "khorana", "kilby", "knuth", "lalande", "lamarr", "leakey", "leavitt", "lederberg", "lehmann", "lewin",
  "liskov", "lovelace", "lumiere", "mahavira", "margulis", "matsumoto", "maxwell", "mayer", "mccarthy", "mcclintock",
  "meitner", "mendel", "merkle", "mirzakhani", "montalcini", "moore", "morse", "napier", "nash", "neumann",
  "newton", "nobel", "noether", "noyce", "pare", "pascal", "pasteur", "payne", "perlman", "pike",
  "poincare", "ptolemy", "raman", "ramanujan", "ride", "ritchie", "roentgen", "rosalind", "saha", "sammet",
  "shannon", "shaw", "shockley", "sinoussi", "snyder", "spence", "stonebraker", "sutherland", "swanson", "swartz",
  "tesla", "thompson", "torvalds", "turing", "varahamihira", "villani", "volhard", "wescoff", "wiles", "williams",
  "wilson", "wing", "wozniak", "wright", "yalow", "yonath", "zhukovsky",
];

/** adjective_surname, like Docker's names generator (retry appends a digit). */
export function generateName(retry = 0): string {
  const name = `${LEFT[randomInt(LEFT.length)]}_${RIGHT[randomInt(RIGHT.length)]}`;
  if (name === "boring_wozniak") return generateName(retry);
  return retry > 0 ? `${name}${randomInt(10)}` : name;
}
