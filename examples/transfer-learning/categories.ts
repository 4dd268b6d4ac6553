/**
 * Coarse categories made of ImageNet-1k classes (index ranges in the standard class order, which follows the
 * WordNet hierarchy), used to build a small labelled folder from one image per ImageNet class. Each image of a
 * category is a different fine class, so held-out images are of kinds (breeds, species) the head never saw.
 */
export interface Category {
  name: string;
  /** Inclusive ranges of ImageNet class indices. */
  ranges: readonly (readonly [number, number])[];
}

export const CATEGORIES: readonly Category[] = [
  { name: 'bird', ranges: [[7, 24], [80, 100], [127, 146]] }, // cock .. great grey owl, black grouse .. goose, white stork .. albatross
  { name: 'dog', ranges: [[151, 268]] }, // Chihuahua .. Mexican hairless
  { name: 'reptile', ranges: [[33, 50], [52, 68]] }, // turtles, lizards, crocodilians, snakes (not the triceratops)
  { name: 'insect', ranges: [[300, 326]] }, // tiger beetle .. lycaenid butterfly
  { name: 'primate', ranges: [[365, 384]] }, // orangutan .. indri
  { name: 'fish', ranges: [[0, 6], [389, 397]] }, // tench .. stingray, barracouta .. puffer
];

/** The category of ImageNet class `index`, if any. */
export function categoryOf(index: number, categories: readonly Category[] = CATEGORIES): Category | undefined {
  return categories.find((c) => c.ranges.some(([a, b]) => index >= a && index <= b));
}
