// Language of a message, offline: function-word profiles plus the letters each language uses and the
// others do not. Small and deterministic, for the languages a community's reports come in most
// (English, German, Spanish, Portuguese, French, Italian, Dutch); anything else is 'und'. Pure.

export type LanguageCode = 'en' | 'de' | 'es' | 'pt' | 'fr' | 'it' | 'nl';
export const LANGUAGES: readonly LanguageCode[] = ['en', 'de', 'es', 'pt', 'fr', 'it', 'nl'];

export interface DetectedLanguage {
  /** ISO 639-1 code, or 'und' when the text is too short or no profile fits. */
  lang: LanguageCode | 'und';
  /** Share of the winning profile's score in all scores, 0..1. */
  confidence: number;
}

// Frequent function words: they say which language a sentence is in long before its nouns do.
// Words shared by several languages (a, de, la, que, e, en, in, is, die) count for each of them.
const STOPWORDS: Record<LanguageCode, string> = {
  en: 'the and is are was were be been to of in on for with that this it its we our you your they not no have has had do does did but or if when what which can could would should will from at by an as so any there their than then just also still about after before',
  de: 'der die das und ist sind war nicht ein eine einen einem einer mit auf für von zu im ich wir uns unser unsere sie es den dem des auch noch schon wenn aber oder wie bei nach seit nur kein keine hat haben wird werden kann können bitte danke immer',
  es: 'el la los las y es son está están fue no un una unos con por para de del que en se lo su sus nuestro nuestra nuestros desde cuando pero o como muy más también ya hay tiene tienen puede pueden gracias todos siempre nunca ahora',
  pt: 'o a os as e é são está estão foi não ao à pelo pela só ainda depois então você sem isso um uma com por para de do da dos das que em no na nos nas se seu sua nosso nossa nossos nossas desde quando mas ou como muito mais também já há tem têm pode podem obrigado obrigada todos sempre nunca agora aqui ficaram',
  fr: 'le la les et est sont était pas ne un une des du de avec pour par que qui dans sur se son sa ses nous notre nos vous votre il elle ils on mais ou comme très plus aussi déjà depuis quand toujours jamais merci tous ce cette au aux',
  it: 'il lo la gli le e è sono era non un una uno con per di del della dei che in su si suo sua nostro nostra noi voi ma o come molto più anche già quando sempre mai grazie tutti questo questa',
  nl: 'de het een en is zijn was niet met op voor van te in ik wij we ons onze ze er maar of als ook nog al wanneer sinds heeft hebben kan kunnen wordt worden bedankt altijd nooit dit deze dat',
};

const STOP: Record<LanguageCode, Set<string>> = Object.fromEntries(LANGUAGES.map((l) => [l, new Set(STOPWORDS[l].split(' '))])) as Record<LanguageCode, Set<string>>;

// Letters and letter pairs that mark one language (weighted as two function words each).
const MARKS: Record<LanguageCode, RegExp> = {
  en: /\b(?:th|wh)\w*|\w+(?:ing|'s|n't)\b/gu,
  de: /[äöüß]|\b\w*(?:sch|cht|tz)\w*\b/gu,
  es: /[ñ¿¡]|\b\w+(?:ción|ciones|dad|dades)\b|\b\w*ll\w*\b/gu,
  pt: /[ãõ]|ç[ãõo]|\b\w+(?:ção|ções|eira|eiro|agem|inho|inha)\b|nh|lh/gu,
  fr: /[èêëîœù]|\b\w+(?:eux|euse|ait|aient)\b|\b[cdjlmnst]'\w/gu,
  it: /\b\w+(?:zione|zioni|mente)\b|\b(?:gli|ché)\b/gu,
  nl: /\b\w*(?:ij|oe|aa|ee|uu)\w*\b/gu,
};

/** The language of a text, or 'und' when it has fewer than `minWords` words or nothing fits. */
export function detectLanguage(text: string, minWords = 4): DetectedLanguage {
  const t = text
    .toLowerCase()
    .replace(/https?:\/\/\S+/g, ' ')
    .replace(/`[^`]*`/g, ' ')
    .slice(0, 3000);
  const tokens = t.match(/[\p{L}']+/gu) ?? [];
  if (tokens.length < minWords) return { lang: 'und', confidence: 0 };
  const stops = LANGUAGES.map(() => 0);
  for (const w of tokens) for (let i = 0; i < LANGUAGES.length; i++) if (STOP[LANGUAGES[i]!].has(w)) stops[i]!++;
  // The winner needs two of its function words (below): without a language that has them, the
  // letters need not be counted.
  if (!stops.some((n) => n >= 2)) return { lang: 'und', confidence: 0 };
  const scores = LANGUAGES.map((l, i) => stops[i]! + (t.match(MARKS[l]) ?? []).length * (l === 'en' || l === 'nl' || l === 'de' ? 0.5 : 2));
  const total = scores.reduce((a, b) => a + b, 0);
  let best = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i]! > scores[best]!) best = i;
  const top = scores[best]!;
  // Too little evidence: under one function word in eight tokens.
  // Letters alone never decide: the winner needs two of its function words.
  if (total === 0 || top < Math.max(2, tokens.length / 8) || stops[best]! < 2) return { lang: 'und', confidence: 0 };
  return { lang: LANGUAGES[best]!, confidence: Math.round((top / total) * 1000) / 1000 };
}
