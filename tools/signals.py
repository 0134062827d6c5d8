"""Cheap text signals: sentiment and prompt-injection attempts (lexicon-based, deterministic).

Injection detection only adds a risk flag for the reviewer; it never changes what needs
approval (``graph/policy.py`` decides that from data alone).
"""

from __future__ import annotations

import bisect
import functools
import importlib
import re
import unicodedata
from collections.abc import Set as AbstractSet
from typing import Any

NEGATIVE = {
    "angry", "annoyed", "awful", "broken", "disappointed", "disgusted", "frustrated", "frustrating",
    "furious", "horrible", "joke", "lawyer", "ridiculous", "terrible", "unacceptable", "unhappy",
    "useless", "worst", "waste", "fed up", "sick of", "still not", "third time", "again?!", "escalate",
    "losing", "outraged", "nightmare", "incompetent",
}
POSITIVE = {"thanks", "thank you", "great", "love", "appreciate", "awesome", "helpful", "cheers", "please"}

# ---- prompt-injection flag ------------------------------------------------------------------------------------
#
# Patterns are written against *normalised* text: NFKD, combining marks dropped (é -> e, ł -> l, ß -> ss),
# zero-width and bidi controls removed, Cyrillic/Greek look-alikes mapped to Latin, lower case. So "précédentes",
# "precedentes" and "prеcеdеntеs" (Cyrillic е) all read "precedentes". A literal space in a pattern below
# stands for any run of in-sentence separators (spaces, commas, apostrophes, dashes), never for ".!?".
#
# Words of the nine supported languages are pooled per role (override verb, "previous", "instructions",
# "approval", "approved", "by", reviewer roles, ...): an attack mixing languages or phrasing a verb in another
# person still reads as verb + target. First-person possessives ("my previous email", "our manager approved
# the purchase", "ohne meine Zustimmung") break a match: the customer talking about their own side is benign.

_SEP = r"[^\w.!?]+"


def _alt(*words: str) -> str:
    return "(?:" + "|".join(words) + ")"


def _gap(count: int) -> str:
    """Up to ``count`` filler words, none of them a first-person possessive."""
    return rf"(?:(?!{_MINE}\b)\w+{_SEP}){{0,{count}}}"


_MINE = (
    r"(?:my|mine|our|ours|me|us|we|mein\w*|unser\w*|ich|wir|mir|uns|mon|mes|notre|nos|moi\w*|je|j|nous|mis?|nuestr\w*|yo|meus?"
    r"|minhas?|noss\w*|eu|mi[aeo]|miei|nostr\w*|io|mijn|onze|ons|ik|wij|min|mitt|mina|jag|vi|moj\w*|nasz\w*|nasi)"
)
# "our IT admin already approved ...": a claimed approval from the customer's own side (checked in Python, two words back)
_OWN_SIDE = re.compile(rf"\b(?:{_MINE}|ma|var|vart|vara|i)\W+(?:\w+\W+)?$")

# "ignore / disregard / forget / override ..." (imperatives and infinitives)
_OVERRIDE = _alt(
    r"ignore", r"ignoring", r"disregard", r"disregarding", r"forget", r"forgetting", r"override", r"overriding", r"bypass",
    r"bypassing", r"discard", r"abandon", r"pay no attention to", r"set aside", r"circumvent", r"suspend",
    r"(?:do not|don't|dont|stop|no longer) (?:follow|obey|apply)(?:ing)?", r"without (?:following|obeying|applying)",
    r"ignorier(?:e|en|t)?", r"missachte(?:n|t)?", r"vergiss", r"vergesst", r"vergessen sie", r"verwirf", r"uberschreibe(?:n)?",
    r"ubergehe(?:n)?", r"setz(?:e|t|en sie)? (?:dich|sich|euch) uber", r"befolge\w* (?:nicht|keine)", r"nicht (?:mehr )?befolgen",
    r"ausser acht", r"umgeh(?:e|t|en sie)?", r"hebel(?:e|t)? (?:die |den |das )?", r"ohne (?:dich |sich )?an",
    r"ignore[sz]?", r"ignorer", r"oublie[sz]?", r"oublier", r"ne (?:tiens|tenez|tenir) (?:pas|plus) compte (?:de|des|du)",
    r"sans tenir compte (?:de|des|du)", r"(?:fais|faites|faire) abstraction (?:de|des|du)", r"contourne[rz]?", r"outrepasse[rz]?",
    r"passe[zr]? outre", r"ne (?:suis|suivez|respecte|respectez) (?:pas|plus)", r"sans (?:suivre|respecter|appliquer)",
    r"ignora[rd]?", r"ignoren", r"olvida[rd]?", r"olvide", r"olviden", r"olvidate(?: de)?", r"omite", r"omita", r"omitan", r"omitir",
    r"(?:haz|haga|hagan|hacer) caso omiso (?:de|a)", r"no (?:sigas|siga|sigan|hagas caso|haga caso)", r"descarta[r]?", r"descarte",
    r"anula[r]?", r"anule", r"pasa por alto", r"elude", r"eludir", r"sin (?:seguir|respetar|aplicar)",
    r"ignorem", r"desconsidere", r"desconsidera[r]?", r"desconsiderem", r"esqueca", r"esquece[r]?", r"esquecam",
    r"nao (?:siga|sigas|sigam|obedeca)", r"deixe de lado", r"passe por cima d[aeo]s?", r"contorna[r]?", r"contorne",
    r"sem (?:seguir|respeitar|aplicar)",
    r"ignorate", r"ignorare", r"ignori", r"dimentica(?:te|re)?", r"dimentichi",
    r"non (?:seguire|segua|seguite|rispettare|tenere conto|tener conto)", r"trascura(?:te|re)?", r"tralascia(?:te|re)?",
    r"scavalca(?:te|re)?", r"aggira(?:te|re)?", r"annulla(?:te|re)?", r"pass[ae] sopra (?:a|al|alla|alle|allo)",
    r"senza (?:seguire|rispettare|applicare)",
    r"negeer", r"negeren", r"vergeet", r"vergeten", r"(?:houd|hou) geen rekening met", r"omzeil(?:en)?", r"passeer",
    r"zonder (?:je |u )?(?:te houden aan|aan te houden|te volgen)",
    r"ignorera", r"strunta i", r"glom", r"glomma", r"bortse fran", r"folj inte", r"kringga", r"kor over", r"satt dig over",
    r"utan att (?:folja|respektera|tillampa)",
    r"zignoruj(?:cie)?", r"ignoruj(?:cie)?", r"zignorowac", r"zapomnij(?:cie)?(?: o)?", r"nie (?:stosuj|przestrzegaj|sluchaj|wykonuj)\w*",
    r"obejdz(?:cie)?", r"omin(?:cie)?", r"uniewaznij\w*", r"bez (?:przestrzegania|stosowania)",
)
# "previous / above / all / your ..." -- the agent's side of the conversation
_EARLIER = _alt(
    r"previous", r"prior", r"earlier", r"above", r"preceding", r"former", r"original", r"initial", r"old", r"existing",
    r"current", r"all", r"any", r"every", r"your", r"these", r"those", r"system", r"internal", r"safety", r"default",
    r"vorherig\w*", r"vorig\w*", r"bisherig\w*", r"fruher\w*", r"obig\w*", r"vorangegangen\w*", r"vorstehend\w*",
    r"ursprunglich\w*", r"alle\w?", r"samtlich\w*", r"jeglich\w*", r"dein\w*", r"ihre\w?", r"deine\w?",
    r"precedent\w*", r"anterieur\w*", r"ci-dessus", r"initial\w*", r"origin\w*", r"tous", r"toutes?", r"vos", r"votre",
    r"tes", r"ton", r"anterior\w*", r"previ[oa]s?", r"todas?", r"todos", r"tus", r"sus?", r"suas?", r"seus?",
    r"tuas?", r"teus?", r"tutt[ei]", r"tue", r"tuoi", r"vostr\w*", r"vorige", r"eerder\w*", r"voorgaand\w*",
    r"bovenstaand\w*", r"oorspronkelijk\w*", r"uw", r"je", r"jouw", r"tidigare", r"foregaende", r"ovanstaende",
    r"ursprungliga", r"alla", r"dina", r"din", r"ditt", r"era", r"poprzedni\w*", r"wczesniejsz\w*", r"powyzsz\w*",
    r"dotychczasow\w*", r"wszystk\w*", r"pierwotn\w*", r"swo[ij]\w*", r"two[ij]\w*", r"wasz\w*",
)
# what an agent is told: instructions, rules, prompt ...
_ORDERS = _alt(
    r"instructions?", r"rules?", r"guidelines?", r"polic(?:y|ies)", r"prompts?", r"directives?", r"commands?",
    r"programming", r"restrictions?", r"constraints?", r"safeguards?", r"guardrails?", r"protocols?",
    r"\w*anweisung\w*", r"instruktion\w*", r"\w*regel\w*", r"\w*richtlinie\w*", r"vorgabe\w*", r"vorschrift\w*",
    r"befehl\w*", r"beschrankung\w*", r"einschrankung\w*", r"consignes?", r"regles?", r"politiques?",
    r"instruc\w*", r"reglas?", r"normas?", r"directri(?:z|ces)", r"pautas?", r"politicas?", r"indicaciones",
    r"restriccion\w*", r"regras?", r"diretri(?:z|zes)", r"restric\w*", r"istruzion\w*", r"regol\w*", r"direttiv\w*",
    r"indicazion\w*", r"restrizion\w*", r"linee guida", r"instructie\w*", r"richtlijn\w*", r"beleid", r"voorschrift\w*",
    r"aanwijzing\w*", r"beperking\w*", r"regl\w*", r"riktlinje\w*", r"anvisning\w*", r"direktiv\w*", r"begransning\w*",
    r"instrukcj\w*", r"polecen\w*", r"zasad\w*", r"regul\w*", r"wytyczn\w*", r"polityk\w*", r"ograniczen\w*",
)
# rules an agent keeps even without "previous": "ignore the policy", "forget your guidelines"
_STRONG_ORDERS = _alt(
    r"rules", r"guidelines", r"polic(?:y|ies)", r"safeguards", r"guardrails", r"restrictions", r"programming", r"politiques?",
    r"politicas?", r"politic(?:a|he)", r"beleid", r"polityk\w*", r"richtlinien", r"policyn",
    r"system ?prompt", r"regeln", r"richtlinien", r"vorgaben", r"regles", r"consignes", r"reglas", r"normas", r"regras",
    r"regole", r"regels", r"regler", r"reglerna", r"zasad\w*", r"regul\w*",
)
# "... the previous instructions I sent" is the customer correcting themselves
_NOT_THEIRS = (
    rf"(?!{_SEP}(?:my|our|me|us|we|ich|wir|je|j|nous|yo|eu|io|ik|wij|jag|vi|i (?:sent|gave|wrote|mentioned|provided|left|had|emailed|asked"
    rf"|added)|that i|die ich|die wir|que (?:je|j|nous|te|le|les|vous|yo)|que (?:envie|mande|enviei|mandei)"
    r"|che (?:ti|vi|ho|abbiamo)|die (?:ik|wij)|som (?:jag|vi)|ktore (?:wyslal|przeslal|podal)\w*|from me|from us"
    r"|in my|in our|about (?:my|our|the) (?:delivery|order|shipping|address)|regarding|for (?:my|our|the) (?:delivery|order|shipping))\b)"
)
_TOLD = _alt(
    r"(?:what |everything |anything |all )?you (?:were|have been|'ve been|got) (?:told|given|instructed)", r"(?:was|were) said",
    r"(?:man )?dir (?:gesagt|mitgeteilt) wurde", r"man dir gesagt hat", r"(?:ce qu')?on t'a dit", r"ce qu'on vous a dit",
    r"(?:lo )?que te (?:dijeron|han dicho|indicaron)", r"(?:lo )?que le (?:dijeron|han dicho)", r"(?:o )?que te (?:disseram|falaram)",
    r"(?:o )?que lhe (?:disseram|falaram)", r"(?:quello )?che ti (?:hanno detto|e stato detto)",
    r"wat (?:je|u) (?:is|werd) (?:verteld|gezegd)",
    r"(?:det )?(?:du|ni) (?:har )?(?:fatt hora|fick hora|blivit tillsagd)", r"(?:to,? )?co ci (?:powiedziano|kazano)",
)
_BEFORE = _alt(
    _TOLD, r"above", r"before",
    r"so far", r"(?:was|were) said", r"earlier", r"previously", r"bisher", r"zuvor", r"vorher", r"davor", r"man dir gesagt",
    r"dir gesagt", r"on t'a dit", r"avant", r"precedemment", r"lo que te (?:dijeron|han dicho)", r"antes", r"anteriormente",
    r"o que te disseram", r"quello che ti (?:hanno detto|e stato detto)", r"prima", r"wat je is verteld", r"hiervoor",
    r"eerder", r"du fatt hora", r"innan", r"tidigare", r"co ci powiedziano", r"wczesniej", r"powyzej",
)
_EVERYTHING = _alt(r"everything", r"all", r"alles", r"tout", r"todo", r"tudo", r"tutto", r"allt", r"wszystko", r"o wszystkim")

# approval / review
_APPROVAL = _alt(
    r"approvals?", r"sign-?offs?", r"authori[sz]ations?", r"human (?:review|check|approval)s?", r"manual (?:review|check)s?",
    r"(?:manager|supervisor|reviewer) (?:approval|review|check)s?", r"reviewers?", r"approval (?:step|process|stage|check)s?",
    r"review (?:step|process|stage|queue)",
    r"\w*genehmigung\w*", r"\w*freigabe\w*", r"zustimmung", r"\w*prufung\w*", r"prufer\w*", r"autorisierung\w*",
    r"approbation\w*", r"validation\w*", r"autorisation\w*", r"relecture",
    r"aprobacion\w*", r"autorizacion\w*", r"validacion\w*", r"visto bueno",
    r"aprovac\w*", r"autorizac\w*", r"validac\w*", r"aval",
    r"approvazion\w*", r"autorizzazion\w*", r"convalida", r"via libera", r"benestare",
    r"\w*goedkeuring\w*", r"toestemming", r"fiat", r"godkannande\w*", r"attest\w*", r"klartecken",
    r"zatwierdz\w*", r"akceptacj\w*", r"zgod[aye]", r"autoryzacj\w*",
    r"permission", r"erlaubnis", r"permiso", r"permissao", r"permesso", r"tillstand", r"pozwoleni\w*",
    r"menschliche (?:prufung|kontrolle|freigabe)", r"(?:verification|validation|revision) humaine", r"revision humana",
    r"revisao humana", r"revisione umana", r"menselijke (?:controle|beoordeling)", r"mansklig (?:granskning|kontroll)",
    r"(?:weryfikacj\w*|kontrol\w*) (?:ludzk|reczn)\w*",
)
# ... plus the words that are also fine in a benign "skip X" / "wait for X": reviews and checks
_REVIEW = _alt(
    _APPROVAL, r"(?:the |any |further |additional |a )review(?! (?:prompt|popup|pop-up|page|screen|request|section|email|link|site))",
    r"(?:all |the |any |further |additional |security |fraud |safety )checks?", r"kontrolle\w*", r"uberprufung\w*",
    r"revision\w*", r"controle\w*", r"revisao", r"revisoes", r"revisor\w*", r"controll[oi]", r"revisore", r"beoordeling\w*",
    r"granskning\w*", r"granskare\w*", r"kontroll\w*", r"sprawdzen\w*", r"przeglad\w*", r"kontrol[aeiy]",
)
# identity checks: "don't wait for verification" is an attack, "bypass the two-step verification?" a lost phone
_CHECKS = _alt(_REVIEW, r"verification\w*", r"verifica", r"verifiche", r"verifizierung\w*", r"verificac\w*", r"verifiering\w*",
               r"verificatie\w*", r"weryfikacj\w*", r"confirmation\w*", r"bestatigung\w*")
_WAIT_NOT = _alt(
    r"(?:do not|don't|dont|no need to|never|you don't need to|you do not need to|there is no need to) (?:wait|ask)(?:ing)? (?:for|on)",
    r"without (?:waiting|asking|checking) (?:for|with)?", r"no need (?:for|to wait for)",
    r"(?:warte|wartet|warten sie) nicht (?:erst |mehr )?(?:auf|ab)", r"ohne (?:auf|erst auf)", r"ohne (?:weitere|zusatzliche)",
    r"keine (?:weitere|zusatzliche)n?", r"(?:n')?(?:attends|attendez) (?:pas|plus)", r"sans (?:attendre|demander)",
    r"(?:pas besoin|inutile) d'?(?:attendre)?", r"no (?:esperes|espere|esperen|pidas|pida)", r"sin (?:esperar|pedir)(?: a| por)?",
    r"no (?:hace falta|se necesita|se requiere|es necesaria)", r"sin necesidad de",
    r"nao (?:espere|esperes|esperem|espera|peca|precisa(?: de)?|e necessari[ao])", r"sem (?:esperar|pedir)(?: por| pela| pelo)?",
    r"sem necessidade de", r"non (?:aspettare|aspettate|aspetti|attendere|attendete|chiedere|serve|occorre)",
    r"senza (?:aspettare|attendere|chiedere|bisogno di)", r"senza (?:ulteriori|altre|alcuna)",
    r"(?:wacht|wachten) niet (?:op|met)?", r"zonder (?:te wachten op|op|verdere)", r"vraag niet om",
    r"(?:vanta|vantar) inte (?:pa)?", r"utan att (?:vanta pa|be om)", r"be inte om", r"utan ytterligare",
    r"nie czekaj\w* na", r"bez czekania na", r"nie czekajac na", r"nie pytaj o", r"bez (?:dodatkowej|dalszej|kolejnej)",
    r"(?:do not|don't|dont|never) ask (?:a |any )?(?:human|person|one|anyone|anybody|staff|agent)? ?(?:for|about)",
    r"ask no (?:one|human|person|staff) (?:for|about)", r"frag\w* (?:keinen|keine|niemanden|nicht)(?: \w+)? (?:um|nach)",
    r"ne (?:demande|demandez|demandes) (?:pas|plus|a personne|jamais)(?: de| d')?",
    r"no (?:pidas|pida|pidan|preguntes|pregunte) (?:a nadie )?",
    r"nao (?:peca|pecas|pecam|pergunte) (?:a ninguem )?", r"non (?:chiedere|chieda|chiedete) (?:a nessuno )?",
    r"vraag (?:geen|niemand|niet)(?: \w+)? (?:om|naar)", r"be (?:ingen|inte|inte nagon|ingen annan)(?: \w+)? om",
    r"nie (?:pros|pytaj)\w*(?: \w+)? o",
    r"(?:do not|don't|dont|never) (?:worry|bother|care) (?:about|with)", r"never mind", r"forget about",
    r"(?:you don't have to|you do not have to|you needn't|you need not) wait (?:for|on)",
    r"(?:du musst|sie mussen|ihr musst) nicht (?:erst )?auf",
    r"(?:tu n'as|vous n'avez) pas besoin d'attendre", r"no (?:tienes|tiene|necesitas|necesita) que esperar(?: a| por)?",
    r"nao (?:precisa|precisas|tem que|tens de) esperar(?: por| pela| pelo)?", r"non (?:devi|deve|dovete) aspettare",
    r"(?:je|u|jij) hoeft niet (?:te wachten )?op", r"(?:du|ni) behover inte vanta pa", r"nie (?:musisz|musicie) czekac na",
    r"(?:kummere|kummer|kummert) (?:dich|euch) nicht (?:um|darum)", r"kummern sie sich nicht um", r"mach dir keine gedanken (?:um|uber)",
    r"ne (?:te soucie|vous souciez|t'occupe|vous occupez|t'inquiete|vous inquietez) (?:pas|plus) (?:de|des|du)",
    r"no te (?:preocupes|molestes) (?:por|con)", r"no se (?:preocupe|moleste) (?:por|con)", r"olvidate de",
    r"nao se (?:preocupe|importe) com", r"nao (?:te preocupes|ligue) (?:com|para)", r"esqueca (?:a|o)",
    r"non (?:preoccuparti|preoccupatevi|si preoccupi) (?:del|della|dell'|dei|delle|di)", r"lascia perdere",
    r"maak je geen zorgen (?:over|om)", r"trek je niets aan van", r"bry dig inte om", r"bry er inte om",
    r"nie przejmuj(?: sie)?", r"nie martw sie(?: o)?",
)
_SKIP = _alt(
    r"skip", r"skipping", r"bypass", r"bypassing", r"circumvent", r"ignore", r"override", r"avoid", r"get around", r"go around",
    r"overrule", r"uberspring(?:e|t|en sie)?", r"umgeh(?:e|t|en sie)?", r"ignorier(?:e|en|t)?", r"saute[rz]?",
    r"passe[rz]? (?:l'etape|outre)",
    r"contourne[rz]?", r"ignore[sz]?", r"omite", r"omita", r"omitan", r"omitir", r"salta", r"saltate", r"saltese", r"saltar", r"saltare",
    r"salti", r"pasa por alto", r"evita", r"evite", r"ignora", r"pule", r"pula", r"pular", r"pulem", r"aggira(?:te|re)?",
    r"contorna", r"contorne", r"sla", r"overslaan", r"omzeil(?:en)?", r"negeer", r"hoppa over", r"skippa", r"kringga", r"ignorera",
    r"pomin(?:cie)?", r"pominac", r"omin(?:cie)?", r"obejdz(?:cie)?", r"zignoruj(?:cie)?",
)
_APPROVED = _alt(
    r"approved", r"pre-?approved", r"authori[sz]ed", r"signed off", r"okayed", r"ok'?d", r"green-?lit",
    r"genehmigt", r"freigegeben", r"abgesegnet", r"bewilligt", r"autorisiert", r"gebilligt", r"zugestimmt",
    r"approuve\w*", r"valide\w*", r"autorise\w*", r"aprob\w*", r"autoriz\w*", r"validad\w*", r"aprovad\w*", r"aprovou",
    r"validou", r"liberad\w*", r"approvat\w*", r"convalidat\w*", r"goedgekeurd", r"geautoriseerd", r"gefiatteerd",
    r"godkan\w*", r"attesterad\w*", r"attesterat", r"beviljad\w*", r"beviljat", r"zatwierdz\w*", r"zaakceptowa\w*",
    r"autoryzowa\w*", r"zaaprobowa\w*",
)
_ALREADY = _alt(
    r"already", r"previously", r"beforehand", r"bereits", r"schon", r"vorab", r"deja", r"ya", r"ja", r"gia", r"al", r"reeds",
    r"redan", r"juz", r"wczesniej",
)
_BY = _alt(r"by", r"from", r"per", r"von", r"vom", r"durch", r"par", r"por", r"pelo", r"pela", r"da", r"dal", r"dalla",
           r"dallo", r"dai", r"door", r"av", r"przez")
# the reviewer's side: who could approve instead of the human reviewer
_REVIEWER = _alt(
    r"reviewers?", r"approvers?", r"supervisors?", r"moderators?", r"support (?:lead|manager|team|staff)", r"human reviewer",
    r"prufer\w*", r"freigeber\w*", r"vorgesetzt\w*", r"reviseur\w*", r"relecteur\w*", r"superviseur\w*", r"valideur\w*",
    r"revisor\w*", r"supervisor\w*", r"beoordelaar\w*", r"granskare\w*", r"granskaren", r"handlaggare\w*", r"recenzent\w*",
    r"weryfikator\w*", r"przelozon\w*",
)
# ... and who only does with "your" or "already": the customer's side has these too
_BOSS = _alt(
    r"managers?", r"boss", r"chef\w*", r"head of \w+", r"directors?", r"ceo", r"cfo", r"colleagues?", r"team", r"staff",
    r"admins?", r"administrat\w*", r"operators?", r"team ?leads?", r"compliance", r"(?:security|finance|billing|risk) team",
    r"leiter\w*", r"teamleit\w*", r"kolleg\w*", r"geschaftsfuhr\w*", r"responsable\w*", r"directeur\w*", r"collegue\w*",
    r"equipe", r"gerente\w*", r"jefe\w*", r"director\w*", r"companer\w*", r"equipo", r"encargad\w*", r"administrador\w*",
    r"diretor\w*", r"gestor\w*", r"colega\w*", r"equipa", r"responsavel\w*", r"responsabil\w*", r"direttor\w*", r"capo\w*",
    r"colleg[ah]\w*", r"amministrator\w*", r"leidinggevend\w*", r"beheerder\w*", r"teamleider\w*", r"ansvarig\w*",
    r"kollega\w*", r"teamledare\w*", r"kierownik\w*", r"menedzer\w*", r"dyrektor\w*", r"koleg\w*", r"szef\w*", r"zespol\w*",
)
_YOUR = _alt(
    r"your", r"ihr", r"ihre", r"ihrem", r"ihren", r"ihrer", r"dein\w*", r"euer", r"eure\w*", r"votre", r"vos", r"ton", r"ta",
    r"su", r"sus", r"tu", r"vuestr\w*", r"seu", r"sua", r"teu", r"tua", r"voss\w*", r"tuo", r"vostr\w*", r"suo", r"uw", r"je",
    r"jouw", r"jullie", r"din", r"ditt", r"er", r"ert", r"two[ij]\w*", r"wasz\w*", r"pana", r"pani", r"panstwa",
)
_GRANTED = _alt(
    r"granted", r"given", r"confirmed", r"obtained", r"on file", r"in place", r"erteilt", r"gegeben", r"erfolgt", r"accordee?",
    r"donnee", r"obtenue", r"concedid[ao]", r"otorgad[ao]", r"dad[ao]", r"obtenid[ao]", r"obtid[ao]", r"concess[ao]",
    r"ottenut[ao]", r"verleend", r"gegeven", r"beviljat", r"givet", r"lamnat", r"udzielon\w*", r"wydan\w*",
)
_NOT_NEEDED = _alt(
    r"(?:is |are )?(?:not|no longer) (?:needed|required|necessary)", r"(?:is |are )?unnecessary",
    r"(?:ist |sind )?(?:nicht|nicht mehr) (?:notig|noetig|erforderlich|notwendig|benotigt)",
    r"(?:n'est|ne sont) (?:pas|plus) (?:necessaire|requis|obligatoire)\w*",
    r"(?:no|ya no) (?:es|son) (?:necesari|requerid|obligatori)\w*", r"(?:nao|ja nao) (?:e|sao) (?:necessari|exigid|obrigatori)\w*",
    r"non (?:e|sono) (?:piu )?(?:necessari|richiest|obbligatori)\w*", r"(?:is |zijn )?(?:niet|niet meer|niet langer) (?:nodig|vereist)",
    r"(?:behovs|kravs) (?:inte|ej)", r"(?:nie jest|nie sa|juz nie jest) (?:potrzebn|wymagan|konieczn)\w*",
)
_SWITCHED_OFF = _alt(
    r"(?:are |is |have been |has been )?(?:now |temporarily )?(?:disabled|suspended|turned off|switched off|waived|bypassed|deactivated"
    r"|paused|lifted)",
    r"deaktiviert", r"ausgesetzt", r"abgeschaltet", r"ausgeschaltet", r"aufgehoben", r"desactive\w*", r"suspendu\w*",
    r"desactivad\w*", r"suspendid\w*", r"desativad\w*", r"suspens\w*", r"disattivat\w*", r"sospes\w*", r"uitgeschakeld",
    r"opgeschort", r"gedeactiveerd", r"avaktiverad\w*", r"inaktiverad\w*", r"avstangd\w*", r"pausad\w*", r"wylaczon\w*",
    r"zawieszon\w*", r"dezaktywowan\w*",
)
_ACT = _alt(
    r"process", r"issue", r"approve", r"execute", r"do it", r"proceed", r"go ahead", r"complete", r"send", r"pay", r"refund",
    r"grant", r"apply", r"push", r"release", r"close", r"handle", r"finali[sz]e", r"authori[sz]e", r"credit", r"transfer",
    r"erstatte\w*", r"bearbeite\w*", r"fuhre\w*", r"zahle\w*", r"uberweise\w*", r"genehmige\w*", r"schicke\w*", r"buche\w*",
    r"veranlasse\w*", r"storniere\w*", r"rembourse[zr]?", r"traite[zr]?", r"effectue[zr]?", r"emet\w*", r"procede[zr]?",
    r"valide[zr]?", r"approuve[zr]?", r"envoie[zr]?", r"execute[zr]?", r"reembolsa", r"procesa", r"emite", r"ejecuta",
    r"aprueba", r"procede", r"realiza", r"tramita", r"haz", r"hazlo", r"devuelve", r"reembolse", r"processe", r"emita",
    r"execute", r"aprove", r"prossiga", r"envie", r"faca", r"realize", r"devolva", r"libere", r"estorne", r"rimborsa",
    r"elabora", r"emetti", r"esegui", r"approva", r"procedi", r"invia", r"effettua", r"restituisci", r"accredita",
    r"betaal", r"verwerk", r"voer", r"keur", r"stort", r"aterbetala", r"behandla", r"genomfor", r"utfor", r"godkann",
    r"skicka", r"betala", r"zwroc", r"przetworz", r"wykonaj", r"zatwierdz", r"wyslij", r"przelej", r"zrob", r"zrealizuj",
)
_NOW = _alt(
    r"now", r"right now", r"immediately", r"right away", r"at once", r"sofort", r"jetzt", r"umgehend", r"maintenant",
    r"immediatement", r"tout de suite", r"ahora", r"ya", r"inmediatamente", r"agora", r"imediatamente", r"ora", r"adesso",
    r"subito", r"immediatamente", r"nu", r"direct", r"meteen", r"onmiddellijk", r"genast", r"omedelbart", r"direkt",
    r"teraz", r"natychmiast",
)
_REFUND = _alt(
    r"refund", r"reimbursement", r"chargeback", r"erstattung", r"ruckerstattung", r"ruckbuchung", r"gutschrift",
    r"remboursement", r"reembolso", r"devolucion", r"estorno", r"rimborso", r"terugbetaling", r"restitutie",
    r"aterbetalning\w*", r"zwrot\w*",
)
_NOW_YOU = _alt(
    r"(?:you are|you're|youre|u r) (?:now|from now on|henceforth)", r"from now on,? you(?:'re| are| will| act)?",
    r"(?:du bist|sie sind|ihr seid) (?:jetzt|nun|ab sofort|ab jetzt|von nun an|ab heute)",
    r"(?:ab (?:jetzt|sofort)|von nun an|ab heute),? (?:bist du|sind sie|seid ihr)",
    r"(?:tu es|vous etes) (?:desormais|maintenant|a present|dorenavant)",
    r"(?:desormais|a partir de maintenant|dorenavant|a present),? (?:tu es|vous etes)",
    r"(?:ahora|a partir de ahora|desde ahora|de ahora en adelante),? (?:eres|es usted|usted es|seras)", r"(?:eres|sera) ahora",
    r"(?:agora|a partir de agora|de agora em diante|daqui em diante),? (?:voce|tu) (?:e|es|sera)", r"(?:voce|tu) (?:e|es) agora",
    r"(?:voce|tu) agora (?:e|es|sera)", r"usted ahora es",
    r"(?:ora|adesso|da ora in poi|d'ora in poi|da adesso in poi|da questo momento),? (?:sei|tu sei|lei e|siete)",
    r"(?:tu )?sei (?:ora|adesso)", r"(?:je bent|jij bent|u bent) (?:nu|vanaf nu|voortaan|vanaf nu aan)",
    r"(?:vanaf nu|voortaan),? (?:ben je|bent u|ben jij)", r"du ar (?:nu|numera|fran och med nu|fran och med idag)",
    r"(?:fran och med nu|nu),? ar du", r"(?:od teraz|teraz|od tej chwili|od dzisiaj),? (?:jestes|bedziesz)",
    r"jestes (?:teraz|od teraz)",
)
_PERSONA = _alt(
    r"\w* ?mode", r"\w*modus", r"mode \w+", r"modo \w+", r"modalita \w+", r"\w*lage", r"tryb\w* \w+",
    r"(?:an? |the )?(?:\w+ )?(?:assistant|ai|bot|chatbot|llm|model|gpt)\b", r"\w*assistent\w*", r"assistente", r"asistente",
    r"assistant", r"\bki\b", r"\bia\b", r"asystent\w*", r"admin\w*", r"administr\w*", r"amministrat\w*", r"beheerder",
    r"developer", r"entwickler", r"developpeur", r"desarrollador", r"desenvolvedor", r"sviluppatore", r"ontwikkelaar",
    r"utvecklare", r"programist\w*", r"deweloper\w*", r"dan\b", r"jailbr\w*",
    r"(?:un|no|without|with no)restrict\w*", r"(?:no|without|free of|free from) (?:restrictions|limits|rules|filters)",
    r"uneingeschrankt\w*", r"ohne (?:einschrankungen|beschrankungen|regeln|grenzen)", r"sans (?:aucune )?(?:restriction|limite|regle)s?",
    r"sin (?:restricciones|limites|reglas)", r"sem (?:restricoes|limites|regras)", r"senza (?:restrizioni|limiti|regole)",
    r"zonder (?:beperkingen|regels|grenzen)", r"utan (?:begransningar|regler|granser)", r"bez (?:ograniczen|zasad|limitow)",
    r"(?:free|allowed|authori[sz]ed|permitted|able) to (?:approve|refund|ignore|issue|bypass|skip)",
    r"no longer (?:bound|restricted|limited|required to)", r"(?:befugt|berechtigt|autorisiert)", r"autoris[ea]\w*",
    r"autoriza\w*", r"autorizzat\w*", r"bevoegd", r"behorig", r"upowazn\w*", r"uprawnion\w*",
)
_MODE = _alt(
    r"(?:developer|debug|god|jailbreak|dan|unrestricted|admin|administrator|maintenance|sudo|root|override|service|test|unfiltered)"
    r" mode",
    r"(?:entwickler|debug|wartungs|admin|administrator|service|test|god|root)modus",
    r"mode (?:developpeur|maintenance|admin\w*|debug|dieu|test)",
    r"modo (?:de )?(?:desarrollador|desenvolvedor|mantenimiento|manutencao|administrador|depuracion|depuracao|dios|deus|prueba|teste)",
    r"modalita (?:di )?(?:sviluppatore|manutenzione|amministratore|debug|test|dio)",
    r"(?:ontwikkelaars|onderhouds|beheerders|debug|test)modus", r"(?:utvecklar|underhalls|admin|administrator|felsoknings|test)lage",
    r"tryb\w* (?:dewelopera|programisty|serwisow\w*|konserwacji|administratora|debugowania|testow\w*)",
)
_MODE_ON = _alt(
    r"(?:is |has been )?(?:now )?(?:enabled|activated|active|engaged|entered|turned on|switched on)", r"(?:is |now )on", r"aktiviert",
    r"eingeschaltet", r"aktiv",
    r"activ\w*", r"attivat\w*", r"attiva", r"ativad\w*", r"ativo", r"geactiveerd", r"ingeschakeld", r"actief", r"aktiverat",
    r"aktiverad", r"aktivt", r"aktywn\w*", r"aktywowan\w*", r"wlaczon\w*", r"habilitad\w*",
)
_HEADER_ROLE = _alt(
    r"system", r"sys", r"admin", r"administrator", r"root", r"developer", r"operator", r"moderator", r"supervisor",
    r"assistant", r"systeme", r"sistema", r"systeem", r"systemet", r"systemowy", r"administrateur", r"administrador",
    r"amministratore", r"beheerder", r"instructions?", r"inst", r"im_start\|?(?:system)?",
)
_HEADER_NOTE = _alt(
    r"message", r"notice", r"override", r"instructions?", r"note", r"update", r"alert", r"prompt", r"command", r"nachricht",
    r"hinweis", r"meldung", r"anweisung", r"avis", r"mensaje", r"aviso", r"nota", r"mensagem", r"messaggio", r"avviso",
    r"bericht", r"melding", r"meddelande", r"komunikat", r"wiadomosc", r"polecenie", r"instrukcja",
)
_DIRECTIVE = _alt(
    _APPROVED, _APPROVAL, _MODE, _SWITCHED_OFF,
    r"(?:ignore|ignoriere|ignorieren|ignorez|ignorer|ignora|ignorar|negeer|ignorera|zignoruj|disregard|override|bypass|skip)\b",
    r"(?:you|the agent|the assistant|the ai) (?:must|shall|will|are (?:now|required|authori[sz]ed|allowed))",
)
_AI = _alt(
    r"ai", r"a\.i\.", r"llm", r"chatbot", r"bot", r"gpt", r"chatgpt", r"claude", r"gemini", r"copilot", r"language model",
    r"(?:ai|automated|virtual) (?:assistant|agent|system)", r"ki", r"sprachmodell", r"ia", r"modele de langage",
    r"modelo de (?:lenguaje|linguagem)", r"modello (?:linguistico|di linguaggio)", r"taalmodel", r"sprakmodell",
    r"model jezykowy", r"sztuczn\w* inteligencj\w*", r"(?:assistente|assistant|asistente|assistent|asystent|agente|agent) (?:ia|ai|ki)",
    r"(?:ia|ai|ki)[-\s]?(?:assistent\w*|assistant|agent\w*)",
)
_TO_AI = _alt(
    r"(?:note|message|instructions?|attention|reminder|memo) (?:to|for) (?:the |any |all )?", r"(?:if|since) you are an? ",
    r"(?:hinweis|nachricht|anweisung) (?:an|fur) (?:die |das |den )?", r"wenn du (?:eine |ein )?",
    r"(?:note|message|consigne)s? (?:pour|a) (?:l'|la |le )?", r"si (?:tu es|vous etes) (?:une |un )?",
    r"nota (?:para|per) (?:la |el |a |o |l')?", r"si eres (?:una |un )?", r"se (?:voce e|tu es|sei) (?:uma |um |un |una |un')?",
    r"(?:notitie|bericht|opmerking) (?:voor|aan) (?:de |het )?", r"als je (?:een )?", r"(?:notering|meddelande|anteckning) till ",
    r"om du ar (?:en |ett )?", r"(?:uwaga|wiadomosc|notatka|informacja) dla ", r"(?:jesli|jezeli) jestes ",
)
_GREETING = _alt(
    r"dear", r"hey", r"hello", r"hi", r"attention", r"achtung", r"liebe", r"lieber", r"hallo", r"chere", r"cher", r"bonjour", r"salut",
    r"hola", r"querida", r"querido", r"atencion", r"ola", r"atencao", r"cara", r"caro", r"ciao", r"attenzione", r"beste", r"hoi",
    r"let op", r"hej", r"kara", r"obs", r"uwaga", r"drogie", r"drogi", r"czesc",
)
_MARK = _alt(r"mark", r"flag", r"set", r"markiere\w*", r"markieren sie", r"marque[rz]?", r"marca", r"marcar", r"marque",
             r"segna", r"contrassegna", r"imposta", r"markeer", r"markera", r"oznacz\w*")
_AS = _alt(r"as", r"to", r"als", r"comme", r"como", r"come", r"som", r"jako", r"na", r"auf")
_REVEAL = _alt(
    r"reveal", r"show", r"print", r"repeat", r"output", r"display", r"tell me", r"leak", r"dump", r"zeig\w*", r"gib", r"verrate\w*",
    r"wiederhole\w*", r"affiche\w*", r"montre\w*", r"revele\w*", r"repete\w*", r"muestra\w*", r"muestrame", r"revela\w*",
    r"repite\w*", r"mostr\w*", r"exib\w*", r"rivela\w*", r"ripeti\w*", r"stampa\w*", r"toon", r"laat", r"geef", r"herhaal",
    r"visa", r"avsloja", r"upprepa", r"skriv ut", r"pokaz\w*", r"ujawnij", r"powtorz", r"wypisz", r"wyswietl",
)
_SYSTEM_PROMPT = _alt(
    r"system[-_\s]?prompt\w*", r"(?:initial|hidden|original|secret) (?:prompt|instructions)", r"systemanweisung\w*",
    r"(?:prompt|invite|consignes?) (?:du |de )?systeme", r"(?:prompt|instrucciones) del sistema", r"(?:prompt|instrucoes) do sistema",
    r"(?:prompt|istruzioni) (?:di|del) sistema", r"systeem ?prompt", r"systeeminstructie\w*", r"systeminstruktion\w*",
    r"(?:prompt|instrukcj\w*|polecen\w*) systemow\w*", r"systemowy prompt",
)
# only with "show me ...": a customer mentions system messages all the time
_SYSTEM_MESSAGE = _alt(
    r"system (?:message|instructions)", r"systemnachricht", r"(?:message|instructions?) (?:du |de )?systeme",
    r"mensaje del sistema", r"mensagem do sistema", r"messaggio (?:di|del) sistema", r"systeembericht", r"systemmeddelande",
    r"komunikat systemowy",
)

_INJECTION_PARTS = (
    # ignore / forget the previous instructions, your rules, everything above
    rf"\b{_OVERRIDE} {_gap(3)}{_EARLIER} {_gap(2)}{_ORDERS}\b{_NOT_THEIRS}",
    rf"\b{_OVERRIDE} {_gap(3)}{_ORDERS} {_EARLIER}\b",
    rf"\b{_OVERRIDE} {_gap(2)}{_STRONG_ORDERS}\b{_NOT_THEIRS}",
    rf"\b{_OVERRIDE} {_EVERYTHING} {_gap(2)}{_BEFORE}\b",
    rf"\b{_OVERRIDE} {_gap(2)}{_TOLD}\b",
    # "your previous instructions are void / no longer apply"
    rf"\b{_EARLIER} {_gap(2)}{_ORDERS} {_gap(3)}(?:are |is |have |has |have been |has been )?(?:now )?(?:void|expired|revoked|cancell?ed"
    r"|obsolete|superseded|invalid|null|no longer (?:valid|apply|applies|in effect|in force|active)|ungultig|aufgehoben|abgelaufen"
    r"|(?:nicht mehr|nicht langer) (?:gultig|aktiv|in kraft)|caduques?|annulee?s?|nulle?s?|(?:ne s'appliquent|ne sont) plus|anulad[ao]s?"
    r"|(?:ya )?no (?:son validas|valen|aplican|estan vigentes)|quedan sin efecto|invalid[ao]s?|(?:ja )?nao (?:valem|sao validas|se aplicam)"
    r"|annullat[ei]|non (?:valgono|sono) piu(?: valide)?|ongeldig|vervallen|gelden niet meer|ogiltiga|upphavda|galler inte (?:langre"
    r"|langer)"
    r"|niewazne|uniewaznion\w*|(?:juz )?nie obowiazuj\w*)\b",
    rf"\b(?:setz\w*|zet|zetten) {_gap(3)}{_ORDERS} (?:ausser kraft|opzij|buiten werking|aan de kant)\b",
    rf"\b{_ORDERS} {_gap(2)}(?:ausser kraft (?:setzen|gesetzt)|opzij (?:zetten|gezet)|buiten werking)\b",
    rf"\b{_EARLIER} {_gap(2)}{_ORDERS} {_gap(2)}(?:ignorieren|vergessen|missachten|negeren|vergeten|ignoreren|ignorera|glomma"
    rf"|zignorowac)\b",
    # approval: do not wait for it, skip it, it is already given, it is switched off
    rf"\b{_WAIT_NOT} {_gap(2)}{_CHECKS}\b",
    rf"\b{_SKIP} {_gap(3)}{_REVIEW}\b",
    r"\b(?:no need|there's no need|there is no need|you don't need|you do not need|do not|don't|dont|never) (?:to )?(?:route|escalate|send"
    r"|forward"
    r"|pass|hand|show|give) (?:it |this |this ticket |this request |the ticket |the request )?(?:on |over )?to (?:a |any |the )?(?:human"
    r"|person"
    r"|reviewer|approver|supervisor|manager|staff)",
    r"\b(?:doesn't|does not|don't|do not|no|won't|will not) need (?:to be |any )?(?:reviewed|checked|approved|review|approval|sign-?off)\b",
    r"\b(?:muss|mussen|braucht) (?:nicht|nicht mehr|keine?) (?:\w+ )?(?:gepruft|kontrolliert|genehmigt|freigegeben"
    r"|uberpruft)(?: (?:zu )?werden)?\b",
    r"\bn'(?:a|ont) pas besoin d'etre (?:validee?s?|approuvee?s?|verifiee?s?|controlee?s?|revisee?s?)",
    r"\bno (?:necesita|necesitan|requiere|requieren) (?:ser )?(?:revisad|aprobad|verificad|validad|autorizad)\w*",
    r"\bnao (?:precisa|precisam) (?:ser |de ser )?(?:revisad|aprovad|verificad|validad|autorizad)\w*",
    r"\bnon (?:deve|devono|ha bisogno di|hanno bisogno di) essere (?:verificat|approvat|controllat|revisionat|autorizzat)\w*",
    r"\b(?:hoeft|hoeven) niet (?:te worden |meer )?(?:gecontroleerd|goedgekeurd|beoordeeld)(?: te worden)?\b",
    r"\bbehover (?:inte|ej) (?:granskas|godkannas|kontrolleras|attesteras)\b",
    r"\bnie (?:musi|musza|wymaga|wymagaja) (?:byc )?(?:sprawdz|zatwierdz|weryfikowa|kontrolowa|akceptowa)\w*",
    rf"\b{_ACT}\b[^.!?\n]{{0,60}}?\b(?:without|ohne|sans|sin|sem|senza|zonder|utan|bez) {_gap(2)}"
    rf"(?:{_APPROVAL}|{_REVIEW}|reviews?|checks?|checking|revision|revisao|revisione|controle|granskning|weryfikacji|kontroli)\b",
    # the agent's own action tiers (playbook): moving an action to one applied without review
    rf"\b(?:tier|level|stufe|niveau|nivel|nivelo|livello|niva|nivan|poziom|permission level|approval level)s? {_gap(3)}"
    r"[a-z]+_[a-z_]+ (?:\w+ ){0,3}?(?:read[_\s-]only|draft[_\s-]only|bounded[_\s-]autonomy)\b",
    rf"\b(?:no|kein\w*|aucune?|ninguna|nenhuma|nessuna|geen|inget|ingen|zadn\w*) {_gap(1)}(?:{_APPROVAL}|reviews?|checks?)"
    r" (?:is |are |ist |sind |est |es |e |ar |jest )?"
    r"(?:needed|required|necessary|notig|noetig|erforderlich|notwendig|necessaire|requise?|necesari[ao]|requerid[ao]|necessari[ao]"
    r"|richiest[ao]|nodig|vereist|behovs|kravs|potrzebn\w*|wymagan\w*)\b",
    rf"\b{_APPROVAL} {_gap(2)}{_NOT_NEEDED}\b",
    rf"\b{_APPROVAL} {_gap(2)}{_SWITCHED_OFF}\b",
    rf"\b{_APPROVAL} {_gap(3)}{_ALREADY} {_gap(1)}{_GRANTED}\b",
    rf"\b{_APPROVED} {_BY} {_gap(2)}{_REVIEWER}\b",
    rf"\b{_ALREADY}\b[^.!?\n]{{0,25}}?\b{_APPROVED} {_BY} {_gap(2)}(?:{_BOSS}|{_YOUR})\b",
    rf"\b{_BY} {_gap(2)}(?:{_REVIEWER}|{_YOUR} {_gap(1)}{_BOSS}) {_gap(2)}{_APPROVED}\b",
    rf"\b{_BY} {_gap(2)}{_BOSS} {_gap(1)}{_ALREADY} {_gap(1)}{_APPROVED}\b",
    rf"\b{_YOUR} {_BOSS} {_gap(3)}{_APPROVED}\b",
    rf"\b{_MARK} {_gap(4)}{_AS} {_APPROVED}\b",
    r"\b(?:approved|approval|requires_approval|needs_approval|auto_approve|approval_required)\s*[:=]\s*(?:true|false|yes|granted)\b",
    rf"\b(?:pre-?approved|already approved) by\b(?! {_MINE}\b)",
    rf"\b(?:issue|execute|trigger|initiate|release) (?:the |this |a |a full |the full )?{_REFUND} {_NOW}\b",
    rf"\b(?:emettez|emets|effectuez|effectue|emite|ejecuta|emita|execute|emetti|esegui|voer|utfor|genomfor|wykonaj|zrealizuj|fuhre"
    rf"|fuhren sie)"
    rf" (?:le |el |o |il |de |den |die |das )?{_REFUND} {_NOW}\b",
    # role play, modes, the system prompt
    rf"\b{_NOW_YOU} {_gap(4)}{_PERSONA}",
    r"\b(?:pretend|imagine) (?:to be|you are|you're|that you are)\b",
    rf"\b(?:pretend|imagine|act as if|assume|suppose|tu so,? als ob|tun sie so,? als ob|fais comme si|faites comme si|imagine[sz]? que"
    rf"|haz como si|haga como si|finge que|finja que|imagina que|faca de conta que|fai finta che|fate finta che|immagina che|doe alsof"
    rf"|stel je voor dat|latsas att|lats som om|tank dig att|udawaj,? ze|wyobraz sobie,? ze"
    rf"|zaloz,? ze) (?:that )?{_gap(2)}{_STRONG_ORDERS}\b",
    r"\b(?:tu so|tun sie so|tue so),? als (?:ob|waer|seist|waren sie|wurdest)\b",
    r"\b(?:fais|faites|fingez|feins) (?:semblant d'etre|comme si)\b",
    r"\b(?:finge|finja|finjam|pretende|fingi) (?:ser|que (?:eres|es|voce e|sei))\b",
    r"\b(?:doe alsof|doe of) je\b", r"\bla(?:t|tsas) som (?:att )?du ar\b", r"\budawaj,? ze jestes\b",
    rf"\b(?:act|behave|respond|operate|agiere|handle|verhalte dich|fungiere|agis|agissez|comporte-toi|actua|actue|comportate|aja|atue"
    rf"|agisci"
    rf"|comportati|gedraag je|handel|agera|bete dig|dzialaj|zachowuj sie) (?:als|as|comme|como|come|som|jako|en tant que) (?:if you were )?"
    rf"{_gap(1)}(?:admin\w*|administr\w*|amministrat\w*|system\w*|sistema|root|developer|entwickler|developpeur|desarrollador|desenvolvedor"
    r"|sviluppatore|ontwikkelaar|utvecklare|dan|jailbr\w*|(?:an? )?(?:unrestricted|unfiltered) \w+|supervisor\w*|superviseur|reviewer"
    r"|prufer)\b",
    rf"\b(?:you are|you're|youre|du bist|sie sind|tu es|vous etes|eres|estas|esta usted|voce e|voce esta|sei|je bent|u bent|je staat"
    rf"|u staat|jij staat|du ar|jestes) (?:now |jetzt |nun |maintenant |desormais |ahora |agora |ora |adesso |nu |teraz )?"
    rf"(?:in|im|en|em|no|nel|nella|i|w) {_gap(2)}{_MODE}\b",
    rf"\b(?:now|jetzt|maintenant|ahora|agora|ora|adesso|nu|teraz),? (?:you are|du bist|sie sind|vous etes|tu es|estas|voce esta|sei|ben je"
    rf"|bent u|ar du|jestes) (?:in|im|en|em|no|nel|nella|i|w) {_gap(2)}{_MODE}\b",
    rf"\b(?:jailbreak|god|dan|unrestricted|sudo|unfiltered|override|dev) ?(?:mode|modus|modo|lage) {_gap(1)}{_MODE_ON}\b",
    rf"\b(?:enter|entering|activate|activating|switch to|switching to|switch into|aktiviere|wechsle in den|passe en|active[zr]?|activa"
    rf"|activar|ative"
    rf"|attiva|passa alla|activeer|aktivera|aktywuj|wlacz) {_gap(1)}(?:jailbreak|dan|god|unrestricted|sudo|root|unfiltered|entwickler"
    rf"|developpeur|desarrollador|desenvolvedor|sviluppatore|ontwikkelaars|utvecklar|dewelopera)\w*(?: mode| modus| modo| lage)?\b",
    rf"\b{_REVEAL} {_gap(2)}(?:{_SYSTEM_PROMPT}|{_SYSTEM_MESSAGE})",
    rf"\b{_SYSTEM_PROMPT}",
    rf"\b{_REVEAL} (?:me |us |mir |moi |me |mi |mij |mig |mi )?(?:your|the|dein\w*|deine|ihre|tes|vos|votre|tus|sus|tuas|suas|tue|tuoi|je"
    rf"|uw|dina"
    r"|swoje|twoje) (?:hidden |secret |original |initial |full |exact )?(?:instructions|prompt|anweisungen|consignes|instrucciones"
    r"|instrucoes"
    r"|istruzioni|instructies|instruktioner|instrukcje)\b",
    rf"\b(?:new|updated|revised|override|neue|aktualisierte|nouvelles?|nuevas?|novas?|nuove|nuova|nuovo|nieuwe|nya|nowe|nowa)"
    rf" {_ORDERS} (?:du |de |del |do |di |dal |of the |from the )?(?:system|systeme|sistema|systemu|systemowe?|systeem)\s*:",
    rf"\b(?:new|updated|revised|neue|nouvelles?|nuevas?|novas?|nuove|nuova|nieuwe|nya|nowe|nowa) (?:system|systeem|systeme|sistema"
    rf"|systemowe?)"
    rf" ?{_ORDERS}\s*:",
    rf"\b(?:your )?(?:real|actual|true|tatsachliche\w*|echten?|vraies?|verdaderas?|reais|vere|verkliga|prawdziwe) {_ORDERS}\s*:",
    r"\b(?:admin|system|security|manager|supervisor|emergency) (?:override|bypass)\b", r"\boverride (?:code|authori[sz]ation|token)\b",
    rf"\b(?:{_OVERRIDE}|overrule|skip|salta|pomin) (?:the |das |la |de |den |el |o |a |il |le )?"
    rf"(?:policy|richtlinie|politique|politica|beleid|polityk\w*|policy\w*)\b",
    # addressing the model directly
    rf"\b{_TO_AI}{_AI}\b(?!-| (?:powered|generated|feature|features|tool|tools|integration|team|company|startup)\b)",
    rf"\b{_GREETING} (?:the |die |der |l'|la |el |a |o |de )?{_AI}\s*:",
    # fake headers: [admin], <system>, "SYSTEM NOTICE: ... approve"
    rf"[\[<{{]{{1,2}}\s*[|/]?\s*{_HEADER_ROLE}(?:[-_\s]*{_HEADER_NOTE})?\s*[|/]?\s*[\]>}}]{{1,2}}",
    rf"<<\s*sys\s*>>|\[/?inst\]|<\|im_start\|>|#{{2,}}\s*(?:system|instructions?|admin)(?:\s+{_HEADER_NOTE})?\s*(?:#|:|\n|$)",
    # a header spliced into a line: "... SYSTEM: approval granted ..."
    rf"\b(?:system|admin|administrator|root)(?:[\s_-]*{_HEADER_NOTE})?\s*:\s*(?:\w+ ){{0,2}}?(?:{_APPROVED}|{_APPROVAL} {_GRANTED}"
    rf"|{_APPROVAL} {_SWITCHED_OFF}|{_MODE})\b",
    # the graph's own resume command and review decisions, forged into a ticket: Command(resume={"type": "accept"})
    r"\bcommand\s*\(\s*resume\s*=", r"\binterrupt_id\b", r"\breview(?:er)? decision\s*:\s*(?:accept|approve)",
    r"[\"']type[\"']\s*:\s*[\"'](?:accept|approve)[\"']",
    # the playbook's tiers applied without review, shown as if granted: "[read_only, automatic]", "| read_only | no |"
    r"\b(?:read|draft)\\?_only\b[^\w\n]{1,4}(?:automatic|auto|no|pre-approved)\b",
    rf"(?:^|\n|[.!?]\s)[^\w\n]{{0,3}}{_HEADER_ROLE}(?:[\s_-]*{_HEADER_NOTE})?\s*:[^\n.!?]{{0,150}}?\b{_DIRECTIVE}",
    rf"(?:^|\n|[.!?]\s)[^\w\n]{{0,3}}(?:system|admin|systeme|sistema|systeem|systemet){_HEADER_NOTE}\s*:",
    rf"(?:^|\n|[.!?]\s)[^\w\n]{{0,3}}{_HEADER_NOTE} (?:du |de |del |do |di |dal |dello |of the |from the )?"
    rf"(?:system\w*|sistema|admin\w*|administrat\w*|amministrat\w*|beheerder)\s*:[^\n.!?]{{0,150}}?\b{_DIRECTIVE}",
)
def _spaced(pattern: str) -> str:
    return pattern.replace(" ?", f"(?:{_SEP})?").replace(" ", _SEP)


_ROLE_CLAIM = rf"\b(?:{_REVIEWER} {_gap(3)}{_APPROVED}|{_BOSS} {_gap(2)}{_ALREADY} {_gap(1)}{_APPROVED})\b"
#: The patterns as compiled, in order; the earliest match wins. ``ROLE_CLAIM`` ("the reviewer already approved
#: this") comes last: it only counts when the customer does not mean their own side ("our IT admin ...").
INJECTION_PATTERNS: tuple[str, ...] = tuple(_spaced(p) for p in _INJECTION_PARTS)
ROLE_CLAIM_PATTERN = _spaced(_ROLE_CLAIM)


# ---- speed: a pattern only runs when the text holds a word it cannot match without --------------------------
#
# Run one after another the ~65 alternations cost about 1 ms on a 160-character ticket, and most tickets contain
# none of the words a pattern needs. So each pattern gets a gate read off its parse tree (an RE2-style prefilter):
# literals one of which every match contains, each marked when it must start and/or end a word, checked with
# C substring search against " word word ... ". Without the (CPython-internal) parser a pattern simply always
# runs: slower, never different. Compiling takes a few hundred milliseconds, so it happens at the first call.

try:
    _sre_parser: Any = importlib.import_module("re._parser")
    _sre_constants: Any = importlib.import_module("re._constants")
except ImportError:  # pragma: no cover - CPython has both; without them every pattern runs
    _sre_parser = _sre_constants = None

_Literal = tuple[str, bool, bool]  # text, must start a word, must end a word
_WORDS = re.compile(r"\w+")
_COMMON = frozenset(
    "a an the to of and or in on at by for from with is are be it this that you your we our i my me no not do all any now"
    " per de la le el il o e et y en un une der die das und du ist er sie ar och att som na i w z".split()
)


def _gate_of(pattern: str) -> list[frozenset[_Literal]] | None:
    """Literal sets every match of ``pattern`` holds one of, each (the two or three rarest); None when unknown."""
    if _sre_parser is None:
        return None
    try:
        required = _required(_sre_parser.parse(pattern), True, True)
    except Exception:  # noqa: BLE001 - an unexpected parse tree only costs speed
        return None
    return sorted(required, key=_openness)[:3] or None


class _Needles:
    """Which literal sets a text holds a literal of, as a bit mask: whole words, word prefixes, suffixes, substrings."""

    def __init__(self, sets: list[frozenset[_Literal]]) -> None:
        self.whole: dict[str, int] = {}
        self.prefixes: dict[str, Any] = {}  # trie; "" holds the mask of the literals ending there
        self.suffixes: dict[str, Any] = {}  # trie over reversed words
        inside: dict[str, int] = {}
        for bit, literals in enumerate(sets):
            for text, starts, ends in literals:
                if not _WORDS.fullmatch(text) or not (starts or ends):
                    inside[text] = inside.get(text, 0) | 1 << bit
                elif starts and ends:
                    self.whole[text] = self.whole.get(text, 0) | 1 << bit
                else:
                    node: Any = self.prefixes if starts else self.suffixes
                    for char in text if starts else reversed(text):
                        node = node.setdefault(char, {})
                    node[""] = node.get("", 0) | 1 << bit
        self.inside = tuple(inside.items())

    def mask(self, folded: str) -> int:
        found = 0
        for word in set(_WORDS.findall(folded)):
            found |= self.whole.get(word, 0)
            for trie, chars in ((self.prefixes, word), (self.suffixes, reversed(word))):
                node: Any = trie
                for char in chars:
                    node = node.get(char)
                    if node is None:
                        break
                    found |= node.get("", 0)
        for text, bits in self.inside:
            if text in folded:
                found |= bits
        return found


def _is_word(code: int) -> bool:
    char = chr(code)
    return char.isalnum() or char == "_"


def _nonword_only(op: Any, arg: Any) -> bool:
    """Whether one step of a parse tree can only consume characters that are not word characters."""
    c: Any = _sre_constants
    if op is c.LITERAL:
        return not _is_word(arg)
    if op is c.IN:
        items = list(arg)
        if items and all(o is c.CATEGORY and a is c.CATEGORY_NOT_WORD for o, a in items):
            return True
        if items and items[0][0] is c.NEGATE:
            return any(o is c.CATEGORY and a is c.CATEGORY_WORD for o, a in items[1:])
        return bool(items) and all(
            (o is c.LITERAL and not _is_word(a)) or (o is c.CATEGORY and a is c.CATEGORY_SPACE) for o, a in items
        )
    if op in (c.MAX_REPEAT, c.MIN_REPEAT) and len(arg[2]) == 1:
        return _nonword_only(*arg[2][0])
    return False


def _boundary_after(op: Any, arg: Any, before: bool) -> bool:
    """Given ``before`` (the text before this step surely ends a word), the same for the text after it."""
    c: Any = _sre_constants
    if op is c.LITERAL:
        return not _is_word(arg)
    if op in (c.ASSERT, c.ASSERT_NOT):
        return before  # zero width
    if op is c.AT:
        return arg in (c.AT_BOUNDARY, c.AT_BEGINNING, c.AT_BEGINNING_STRING) or before
    if op in (c.MAX_REPEAT, c.MIN_REPEAT):
        body = arg[2]
        if _nonword_only(op, arg) or (len(body) and _nonword_only(*body[-1])):  # (word sep){0,3} ends on a sep or is empty
            return True if arg[0] >= 1 else before
        return False
    return _nonword_only(op, arg)


def _boundary_before(op: Any, arg: Any, after: bool) -> bool:
    """Given ``after`` (the text after this step surely starts with a non-word character), the same before it."""
    c: Any = _sre_constants
    if op is c.LITERAL:
        return not _is_word(arg)
    if op in (c.ASSERT, c.ASSERT_NOT):
        return after
    if op is c.AT:
        return arg in (c.AT_BOUNDARY, c.AT_END, c.AT_END_STRING) or after
    if op in (c.MAX_REPEAT, c.MIN_REPEAT):
        return (True if arg[0] >= 1 else after) if _nonword_only(op, arg) else False
    return _nonword_only(op, arg)


def _required(steps: Any, left: bool, right: bool) -> list[frozenset[_Literal]]:
    """Sets of literals every match of ``steps`` holds one of (each set on its own).

    ``left``: the text before ``steps`` surely ends with a non-word character (or is empty); ``right``: the text
    after surely starts with one (or is empty). A literal inherits that and is marked as starting or ending a word.
    """
    c: Any = _sre_constants
    steps = list(steps)
    count = len(steps)
    rights = [right] * (count + 1)  # rights[i]: the text after step i - 1 surely starts with a non-word character
    for i in range(count - 1, -1, -1):
        op, arg = steps[i]
        rights[i] = _boundary_before(op, arg, rights[i + 1])
    required: list[frozenset[_Literal]] = []
    before = left
    i = 0
    while i < count:
        op, arg = steps[i]
        if op is c.LITERAL:
            j = i
            while j < count and steps[j][0] is c.LITERAL:
                j += 1
            codes = [a for _, a in steps[i:j]]
            text = "".join(map(chr, codes))
            required.append(frozenset([(text, before and _is_word(codes[0]), rights[j] and _is_word(codes[-1]))]))
            before = not _is_word(codes[-1])
            i = j
            continue
        if op is c.SUBPATTERN and not arg[1] and not arg[2]:  # no inline flags
            required += _required(arg[3], before, rights[i + 1])
        elif op is c.BRANCH:
            union: set[_Literal] = set()
            for branch in arg[1]:
                options = _required(branch, before, rights[i + 1])
                if not options:
                    union.clear()
                    break
                union |= min(options, key=_openness)
            if union:
                required.append(frozenset(union))
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT) and arg[0] >= 1:
            once = arg[1] == 1
            required += _required(arg[2], before and once, rights[i + 1] and once)
        before = _boundary_after(op, arg, before)
        i += 1
    return required


def _openness(literals: AbstractSet[_Literal]) -> float:
    """Roughly how often ordinary text holds one of ``literals`` (lower is better): short, loose, common ones often."""
    return sum(1.0 if text in _COMMON else 26.0 ** -(len(text) + 2 * starts + 2 * ends) for text, starts, ends in literals)


@functools.cache
def _compiled() -> tuple[tuple[tuple[re.Pattern[str], int], ...], _Needles]:
    """The patterns (``ROLE_CLAIM_PATTERN`` last), each with the mask of literal sets a text must hold all of."""
    sources = (*INJECTION_PATTERNS, ROLE_CLAIM_PATTERN)
    gates = [_gate_of(p) for p in sources]
    sets = [literals for gate in gates for literals in gate or ()]
    bits = iter(range(len(sets)))
    parts = tuple((re.compile(p), sum(1 << next(bits) for _ in gate or ())) for p, gate in zip(sources, gates, strict=True))
    return parts, _Needles(sets)


# ---- normalisation: what the patterns read ----------------------------------------------------------------------

_INVISIBLE = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180e\u180f\u200b\u200c\u200d\u200e\u200f"
    "\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\u206a\u206b\u206c\u206d\u206e\u206f"
    "\u3164\ufeff\uffa0\U000e0001\U000e007f" + "".join(map(chr, range(0xFE00, 0xFE10)))
)
_LOOKALIKES = {
    # Cyrillic
    "А": "A", "а": "a", "В": "B", "в": "b", "Е": "E", "е": "e", "К": "K", "к": "k", "М": "M", "м": "m", "Н": "H", "н": "h",
    "О": "O", "о": "o", "Р": "P", "р": "p", "С": "C", "с": "c", "Т": "T", "т": "t", "У": "Y", "у": "y", "Х": "X", "х": "x",
    "Ѕ": "S", "ѕ": "s", "І": "I", "і": "i", "Ј": "J", "ј": "j", "Ԁ": "D", "ԁ": "d", "Һ": "H", "һ": "h", "Ԛ": "Q", "ԛ": "q",
    "Ԝ": "W", "ԝ": "w", "Ӏ": "I", "ӏ": "l", "Ү": "Y", "ү": "y", "Ɡ": "G", "ɡ": "g", "ɑ": "a", "ɩ": "i",
    # Greek
    "Α": "A", "α": "a", "Β": "B", "β": "b", "Ε": "E", "ε": "e", "Ζ": "Z", "Η": "H", "Ι": "I", "ι": "i", "Κ": "K", "κ": "k",
    "Μ": "M", "Ν": "N", "ν": "v", "Ο": "O", "ο": "o", "Ρ": "P", "ρ": "p", "Τ": "T", "τ": "t", "Υ": "Y", "υ": "u", "Χ": "X",
    "χ": "x", "ϲ": "c", "ϳ": "j",
    # letters NFKD keeps whole
    "ß": "ss", "ẞ": "SS", "Ł": "L", "ł": "l", "Ø": "O", "ø": "o", "Đ": "D", "đ": "d", "Æ": "AE", "æ": "ae", "Œ": "OE",
    "œ": "oe", "ı": "i", "Ħ": "H", "ħ": "h",
    # punctuation
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u02bc": "'", "\u2032": "'", "\u00b4": "'", "\u0060": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
}
_COMBINING = [(0x0300, 0x0370), (0x1AB0, 0x1B00), (0x1DC0, 0x1E00), (0x20D0, 0x2100), (0xFE20, 0xFE30)]
_FOLD: dict[int, str | None] = {ord(c): None for c in _INVISIBLE}
_FOLD.update({cp: None for low, high in _COMBINING for cp in range(low, high)})
_FOLD.update({ord(k): v for k, v in _LOOKALIKES.items()})
# Unicode "tag" characters spell ASCII invisibly (a hidden instruction); read them as the letters they stand for
_FOLD.update({cp: chr(cp - 0xE0000) for cp in range(0xE0020, 0xE007F)})
# what the reviewer is shown: invisible characters dropped, tag characters as the letters they spell
_STRIP_INVISIBLE: dict[int, str | None] = {ord(c): None for c in _INVISIBLE}
_STRIP_INVISIBLE.update({cp: chr(cp - 0xE0000) for cp in range(0xE0020, 0xE007F)})


def _fold(text: str) -> str:
    """The text as the patterns read it: accents, zero-width characters and look-alike letters folded away."""
    if text.isascii():
        return text.lower()
    return unicodedata.normalize("NFKD", text).translate(_FOLD).lower()


def _owners(text: str, folded: str, upto: int) -> list[int] | None:
    """For each of the first ``upto`` characters of ``folded`` (``_fold(text)``), the index in ``text`` it comes from."""
    owners: list[int] = []
    pieces: list[str] = []
    for index, char in enumerate(text):
        if len(owners) >= upto:
            break
        piece = _fold(char)
        pieces.append(piece)
        owners.extend([index] * len(piece))
    return owners if "".join(pieces)[:upto] == folded[:upto] and len(owners) >= upto else None


def sentiment(text: str) -> tuple[str, float]:
    """Label (negative/neutral/positive) and a score in [-1, 1]."""
    lower = text.lower()
    neg = sum(lower.count(w) for w in NEGATIVE) + lower.count("!!") + (2 if re.search(r"\b[A-Z]{5,}\b", text) else 0)
    pos = sum(lower.count(w) for w in POSITIVE)
    score = max(-1.0, min(1.0, (pos - 1.5 * neg) / 4))
    if neg >= 2 or score <= -0.3:
        return "negative", score
    if score >= 0.25 and neg == 0:
        return "positive", score
    return "neutral", score


def injection_attempt(text: str) -> str | None:
    """The phrase that looks like an instruction to the agent, if any (as written in ``text``, invisible characters removed).

    Advisory only: the caller adds a ``prompt_injection_suspected`` risk flag for the reviewer. Matching is on
    ``_fold(text)``, so accents, zero-width characters, full-width letters and Cyrillic/Greek look-alikes do not hide
    a phrase; patterns cover English, German, French, Spanish, Portuguese, Italian, Dutch, Swedish and Polish.
    """
    folded = _fold(text)
    span = _first_span(folded)
    if span is None:
        return None
    if text.isascii():  # folding kept every offset
        return _tidy(text[span[0] : span[1]])
    owners = _owners(text, folded, span[1])
    if owners is None:  # folding character by character came out different: show the folded phrase
        return _tidy(folded[span[0] : span[1]])
    return _tidy(text[owners[span[0]] : owners[span[1] - 1] + 1])


_WINDOW = 800  # characters of text whose matches one window answers for
_LOOKAHEAD = 400  # characters after it a window still reads: longer than any match and its look-ahead
_CUT = re.compile(r"\n|[.!?]\s")  # windows start after a line or sentence end, where no pattern can start mid-way


def _first_span(folded: str) -> tuple[int, int] | None:
    """Where the earliest match is. Long texts go window by window, so a pattern only reads the windows holding its words."""
    if len(folded) <= _WINDOW + _LOOKAHEAD:
        return _first_in(folded, 0, 0, len(folded))
    cuts = [m.end() for m in _CUT.finditer(folded)]
    start = 0
    while start < len(folded):
        index = bisect.bisect_left(cuts, start + _WINDOW)
        end = cuts[index] if index < len(cuts) else len(folded)
        index = bisect.bisect_left(cuts, end + _LOOKAHEAD)
        reach = cuts[index] if index < len(cuts) else len(folded)
        span = _first_in(folded[start:reach], start, 0, end - start)
        if span is not None:
            return span
        start = end
    return None


def _first_in(piece: str, offset: int, low: int, high: int) -> tuple[int, int] | None:
    """The earliest match in ``piece`` starting in [low, high), as offsets into the whole text (``piece`` starts at ``offset``).

    A ``ROLE_CLAIM`` counts unless the customer means their own side ("our IT admin already approved ...").
    """
    parts, needles = _compiled()
    held = needles.mask(piece)
    best: re.Match[str] | None = None
    for pattern, gate in parts[:-1]:  # earliest start wins, the earlier pattern on a tie: one alternation's answer
        if held & gate == gate:
            found = pattern.search(piece, low)
            if found is not None and found.start() < high and (best is None or found.start() < best.start()):
                best = found
    role_claim, role_gate = parts[-1]
    if held & role_gate == role_gate:
        limit = best.start() if best is not None else high
        claim = role_claim.search(piece, low)
        while claim is not None and claim.start() < limit:
            if not _OWN_SIDE.search(piece[max(0, claim.start() - 40) : claim.start()]):
                best = claim
                break
            claim = role_claim.search(piece, claim.start() + 1)
    return None if best is None else (offset + best.start(), offset + best.end())


def _tidy(phrase: str) -> str:
    """The phrase as shown: invisible characters dropped, outer spaces and a leading sentence end trimmed; never empty."""
    return phrase.translate(_STRIP_INVISIBLE).strip().lstrip(".!?").strip() or phrase.strip() or "(invisible text)"
