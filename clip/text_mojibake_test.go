package clip

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// mojibakeCase is one of ftfy's own test cases (ftfy 6.3, tests/test-cases:
// synthetic, in-the-wild, language-names and negative): FixText must give fixed, and the
// encoding repair alone fixedEncoding (when it differs).
type mojibakeCase struct{ label, in, fixedEncoding, fixed string }

var mojibakeCases = []mojibakeCase{
	// Synthetic.
	{"à before two spaces", "voilÃ  le travail", "", "voilà le travail"},
	{"à absorbing the following space", "voilÃ le travail", "", "voilà le travail"},
	{"Hebrew via Windows-1250", "×‘×”×•×“×˘×”", "", "בהודעה"},
	{"Hebrew via MacRoman", "◊ë◊î◊ï◊ì◊¢◊î", "", "בהודעה"},
	{"Hebrew via Latin-1", "×\u0090×\u0091×\u0091×\u0090", "", "אבבא"},
	{"Arabic via Windows-1252", "Ø±Ø³Ø§Ù„Ø©", "", "رسالة"},
	{"Arabic via Windows-1250", "Ř±ŘłŘ§Ů„Ř©", "", "رسالة"},
	{"Arabic via MacRoman", "ÿ±ÿ≥ÿßŸÑÿ©", "", "رسالة"},
	{"backslashes", "<40\\% vs \u00e2\u0089\u00a540\\%", "", "<40\\% vs ≥40\\%"},
	{"mismatched quotes in Latin-1", "\u00e2\u0080\u009cmismatched quotes\u0085\u0094", "“mismatched quotes…”", "\"mismatched quotes…\""},
	{"mismatched quotes in Windows-1252", "â€œmismatched quotesâ€¦”", "“mismatched quotes…”", "\"mismatched quotes…\""},
	{"lossy sloppy Windows-1252", "â€œlossy decodingâ€�", "“lossy decoding�", "\"lossy decoding�"},
	{"août", "aoÃ»t", "", "août"},
	{"all-caps HÔTEL", "HÃ”TEL", "", "HÔTEL"},
	{"all-caps CÙIS", "CÃ™IS", "", "CÙIS"},
	{"trademark sign ending a word", "OÃ™ ET QUAND?", "", "OÙ ET QUAND?"},
	// In the wild.
	{"low-codepoint emoji", "He's Justinâ\u009d¤", "", "He's Justin❤"},
	{"MacRoman smurfs", "Le Schtroumpf Docteur conseille g√¢teaux et baies schtroumpfantes pour un r√©gime √©quilibr√©.", "",
		"Le Schtroumpf Docteur conseille gâteaux et baies schtroumpfantes pour un régime équilibré."},
	{"check mark", "âœ” No problems", "", "✔ No problems"},
	{"Windows-1251 Russian", "РґРѕСЂРѕРіРµ Р\u0098Р·-РїРѕРґ #С„СѓС‚Р±РѕР»", "", "дороге Из-под #футбол"},
	{"Latin-1 meant as Windows-1252", "\u0084Handwerk bringt dich überall hin\u0093: Von der YOU bis nach Monaco",
		"„Handwerk bringt dich überall hin“: Von der YOU bis nach Monaco", "\"Handwerk bringt dich überall hin\": Von der YOU bis nach Monaco"},
	{"replacement character", "Some comments may be republished on the website or in the newspaper ï¿½ email addresses will not be published.", "",
		"Some comments may be republished on the website or in the newspaper � email addresses will not be published."},
	{"CESU-8 via Windows-1252", "Hi guys í\u00a0½í¸\u008d", "", "Hi guys 😍"},
	{"CESU-8 via Latin-1", "hihi RT username: â\u0098ºí\u00a0½í¸\u0098", "", "hihi RT username: ☺😘"},
	{"Turkish", "Beta Haber: HÄ±rsÄ±zÄ± BÃ¼yÃ¼ Korkuttu", "", "Beta Haber: Hırsızı Büyü Korkuttu"},
	{"İstanbul", "Ä°stanbul", "", "İstanbul"},
	{"ZURÜCK", "RUF MICH ZURÃœCK", "", "RUF MICH ZURÜCK"},
	{"Rīga", "RÄ«ga", "", "Rīga"},
	{"Windows-1251 twice", "Р С—РЎР‚Р С‘РЎРЏРЎвЂљР Р…Р С•РЎРѓРЎвЂљР С‘. РІСњВ¤", "", "приятности. ❤"},
	{"Windows-1252 twice", "Kayanya laptopku error deh, soalnya tiap mau ngetik deket-deket kamu font yg keluar selalu Times New Ã¢â‚¬Å“ RomanceÃ¢â‚¬Â\u009d.",
		"Kayanya laptopku error deh, soalnya tiap mau ngetik deket-deket kamu font yg keluar selalu Times New “ Romance”.",
		"Kayanya laptopku error deh, soalnya tiap mau ngetik deket-deket kamu font yg keluar selalu Times New \" Romance\"."},
	{"Iggy Pop", "Iggy Pop (nÃƒÂ© Jim Osterberg)", "", "Iggy Pop (né Jim Osterberg)"},
	{"UTF-8 and Latin-1 quotes", "Direzione Pd, ok â\u0080\u009csenza modifiche\u0094 all'Italicum.",
		"Direzione Pd, ok “senza modifiche” all'Italicum.", "Direzione Pd, ok \"senza modifiche\" all'Italicum."},
	{"triumphant emoticon", "selamat berpuasa sob (Ã\u00a0Â¸â€¡'ÃŒâ‚¬Ã¢Å’Â£'ÃŒÂ\u0081)Ã\u00a0Â¸â€¡", "", "selamat berpuasa sob (ง'̀⌣'́)ง"},
	{"three times", "The Mona Lisa doesnÃƒÂ¢Ã¢â€šÂ¬Ã¢â€žÂ¢t have eyebrows.", "The Mona Lisa doesn’t have eyebrows.", "The Mona Lisa doesn't have eyebrows."},
	{"code page 437", "#╨┐╤Ç╨░╨▓╨╕╨╗╤î╨╜╨╛╨╡╨┐╨╕╤é╨░╨╜╨╕╨╡", "", "#правильноепитание"},
	{"French", "HÃ´tel de Police", "", "Hôtel de Police"},
	{"French via Windows-1250", "LiĂ¨ge Avenue de l'HĂ´pital", "", "Liège Avenue de l'Hôpital"},
	{"Vietnamese", "Táº¡i sao giÃ¡ háº¡t sáº§u riÃªng láº¡i lÃªn giÃ¡?", "", "Tại sao giá hạt sầu riêng lại lên giá?"},
	{"Greek letter mid-word", "Humanized HLA-DR4.RagKO.IL2RÎ³cKO.NOD (DRAG) mice", "", "Humanized HLA-DR4.RagKO.IL2RγcKO.NOD (DRAG) mice"},
	{"lost bytes as question marks, nearly fixed", "ItÃ?Â¢â?¬â?¢s classic. ItÃ?Â¢â?¬â?¢s epic. ItÃ?Â¢â?¬â?¢s ELIZABETH BENNET for goodnessÃ?Â¢â?¬â?¢ sake!", "",
		"It�¢��s classic. It�¢��s epic. It�¢��s ELIZABETH BENNET for goodness�¢�� sake!"},
	{"lossy Windows-1250", "Europa, Asia, Ă�frica, Norte, AmĂ©rica Central y del Sur, Australia y OceanĂ\u00ada", "",
		"Europa, Asia, �frica, Norte, América Central y del Sur, Australia y Oceanía"},
	{"sloppy Windows-1250 with a lost no-break space", "It was namedÂ â€žscarsÂ´ stonesâ€ś after the rock-climbers",
		"It was named\u00a0„scars´ stones“ after the rock-climbers", "It was named\u00a0\"scars´ stones\" after the rock-climbers"},
	{"ISO-8859-2", "It was namedÂ\u00a0â\u0080\u009escarsÂ´ stonesâ\u0080\u009c after the rock-climbers",
		"It was named\u00a0„scars´ stones“ after the rock-climbers", "It was named\u00a0\"scars´ stones\" after the rock-climbers"},
	{"Czech via ISO-8859-2", "MĂĄm dost tĹ\u0099etĂ\u00adho tisĂ\u00adciletĂ\u00ad", "", "Mám dost třetího tisíciletí"},
	{"French and Arabic", "Ã€ tous mes frÃ¨res et soeurs dans la syriennetÃ© comme dans l’humanitÃ©, je vous souhaite bonne fÃªte Ø¹ÙŠØ¯ Ø³Ø¹ÙŠØ¯.Que la paix, la libertÃ©, l’Ã©galitÃ© soient avec vous.",
		"À tous mes frères et soeurs dans la syrienneté comme dans l’humanité, je vous souhaite bonne fête عيد سعيد.Que la paix, la liberté, l’égalité soient avec vous.",
		"À tous mes frères et soeurs dans la syrienneté comme dans l'humanité, je vous souhaite bonne fête عيد سعيد.Que la paix, la liberté, l'égalité soient avec vous."},
	{"Romanian via sloppy Windows-1250", "vedere Ă®nceĹŁoĹźatÄ\u0083", "", "vedere înceţoşată"},
	{"Slovak", "NapĂ\u00adĹˇte nĂˇm !", "", "Napíšte nám !"},
	{"DOS AÑOS", "DOS AÃ‘OS", "", "DOS AÑOS"},
	{"Windows-1252 then Windows-1251", "a bigger-than-expected Г‚ВЈ5.8bn rights issue", "", "a bigger-than-expected £5.8bn rights issue"},
	{"crossing-out", "hotel $49 $Ì¶6Ì¶3Ì¶ updated 2018", "", "hotel $49 $̶6̶3̶ updated 2018"},
	{"face mixed up twice", "Ã¢â€\u009dâ€™(Ã¢Å’Â£Ã‹â€ºÃ¢Å’Â£)Ã¢â€\u009dÅ½", "", "┒(⌣˛⌣)┎"},
	{"face with U+009D lost", "Ã¢â€�â€™(Ã¢Å’Â£Ã‹â€ºÃ¢Å’Â£)Ã¢â€�Å½", "", "�(⌣˛⌣)�"},
	{"lost bytes as question marks", "The ICR has been upgraded to â€œbb+â€? from â€œbbâ€?",
		"The ICR has been upgraded to “bb+� from “bb�", "The ICR has been upgraded to \"bb+� from \"bb�"},
	{"CESU-8 emoji run", "I just figured out how to tweet emojis! â\u009a½í\u00a0½í¸\u0080í\u00a0½í¸\u0081í\u00a0½í¸\u0082í\u00a0½í¸\u0086í\u00a0½í¸\u008eí\u00a0½í¸\u008eí\u00a0½í¸\u008eí\u00a0½í¸\u008e", "",
		"I just figured out how to tweet emojis! ⚽😀😁😂😆😎😎😎😎"},
	{"hopeless garble", "ã†â€™ãƒâ€ ã¢â‚¬â„¢ãƒæ’ã‚â¢ãƒâ¢ã¢â‚¬å¡ã‚â¬ãƒâ€šã‚â",
		"ã†â€™ãƒâ€ ã¢â‚¬â„¢ãƒæ’ã‚â¢ãƒâ¢ã¢â‚¬å¡ã‚â¬ãƒâ€šã‚â",
		"ã†â€™ãƒâ€ ã¢â'¬â\"¢ãƒæ'ã'â¢ãƒâ¢ã¢â'¬å¡ã'â¬ãƒâ€šã'â"},
	{"inconsistent UTF-8 in Latin-1", "Ecuadorâ\u0080\u0099s â\u0080\u0098purely political decision on Assangeâ\u0080\u0099 is likely result of â\u0080\u0098US pressureâ\u0080\u0099\u0085",
		"Ecuador’s ‘purely political decision on Assange’ is likely result of ‘US pressure’…",
		"Ecuador's 'purely political decision on Assange' is likely result of 'US pressure'…"},
	{"inconsistent UTF-8 with a Windows-1252 ellipsis", "Ecuadorâ\u0080\u0099s â\u0080\u0098purely political decision on Assangeâ\u0080\u0099 is likely result of â\u0080\u0098US pressureâ\u0080\u0099…",
		"Ecuador’s ‘purely political decision on Assange’ is likely result of ‘US pressure’…",
		"Ecuador's 'purely political decision on Assange' is likely result of 'US pressure'…"},
	{"inconsistent Portuguese", "Campeonatos > III DivisÃ£o - SÃ©rie F > Jornadas Classificação", "", "Campeonatos > III Divisão - Série F > Jornadas Classificação"},
	{"Nicolás", "NicolÃ¡s", "", "Nicolás"},
	{"ß via MacRoman", "wei√ü", "", "weiß"},
	{"à before a no-break space", "ART TRIP Ã\u00a0 l'office de tourisme", "", "ART TRIP à l'office de tourisme"},
	{"Windows-1251 with a ligature", "This is signiп¬Ѓcantly lower than the respective share",
		"This is signiﬁcantly lower than the respective share", "This is significantly lower than the respective share"},
	{"à stays a word", "Ã perturber la rÃ©flexion des thÃ©ologiens jusqu'Ã nos jours", "", "à perturber la réflexion des théologiens jusqu'à nos jours"},
	{"à in inconsistent mojibake", "Le barÃ¨me forfaitaire permet l’Ã©valuation des frais de dÃ©placement relatifs Ã l’utilisation",
		"Le barème forfaitaire permet l’évaluation des frais de déplacement relatifs à l’utilisation",
		"Le barème forfaitaire permet l'évaluation des frais de déplacement relatifs à l'utilisation"},
	{"às", "com especial atenÃ§Ã£o Ã s crianÃ§as", "", "com especial atenção às crianças"},
	{"à must be followed by a space, but not in s'", "TroisiÃ¨me Ã©dition pour ce festival qui persiste et signe Ã s'Ã©loigner des grands axes", "",
		"Troisième édition pour ce festival qui persiste et signe à s'éloigner des grands axes"},
	{"à via Windows-1251", "La rГ©gion de Dnepropetrovsk se trouve Г lвЂ™ouest de lвЂ™Ukraine",
		"La région de Dnepropetrovsk se trouve à l’ouest de l’Ukraine", "La région de Dnepropetrovsk se trouve à l'ouest de l'Ukraine"},
	{"àquele", "eliminado o antÃ\u00adgeno e mantidos os nÃ\u00adveis de anticorpos, surgem as condiÃ§Ãµes necessÃ¡rias, semelhante Ã quele observado nas lesÃµes", "",
		"eliminado o antígeno e mantidos os níveis de anticorpos, surgem as condições necessárias, semelhante àquele observado nas lesões"},
	{"Gaelic with no-break spaces", "CÃ\u00a0nan nan GÃ\u00a0idheal", "", "Cànan nan Gàidheal"},
	{"Windows-1251 dash", "Blog Traffic Tip 2 вЂ“ Broadcast Email Your Blog", "", "Blog Traffic Tip 2 – Broadcast Email Your Blog"},
	{"Windows-1251 quotes", "S&P Confirms UkrsotsbankвЂ™s вЂњB-вЂњ Rating", "S&P Confirms Ukrsotsbank’s “B-“ Rating", "S&P Confirms Ukrsotsbank's \"B-\" Rating"},
	{"Dutch ë", "ongeÃ«venaard", "", "ongeëvenaard"},
	{"an HTML reference over mojibake", "10Î&frac14;s", "10Î&frac14;s", "10μs"},
	{"three layers of MacRoman", "Merci de t‚Äö√†√∂¬¨¬©l‚Äö√†√∂¬¨¬©charger le plug-in Flash Player 8", "", "Merci de télécharger le plug-in Flash Player 8"},
	{"MacRoman ellipsis", "afin d'en profiter‚Ä¶", "", "afin d'en profiter…"},
	{"MacRoman ò", "Le Vigne di Zam√≤", "", "Le Vigne di Zamò"},
	{"musical notes", "indah di dalam hatikuâ™«~", "", "indah di dalam hatiku♫~"},
	{"Latvian via Windows-1257", "Å\u00a0veices baÅ†Ä·ieri gaida konkrÄ“tus investÄ«ciju projektus", "", "Šveices baņķieri gaida konkrētus investīciju projektus"},
	{"Latvian via MacRoman", "SaeimƒÅ ievƒìlƒìtƒÅs partijas \"Progresƒ´vie\" lƒ´dzvadƒ´tƒÅja Anto≈Üina ≈Öena≈°eva atbild uz ≈æurnƒÅlistu jautƒÅjumiem", "",
		"Saeimā ievēlētās partijas \"Progresīvie\" līdzvadītāja Antoņina Ņenaševa atbild uz žurnālistu jautājumiem"},
	{"Lithuanian via Windows-1257", "Å\u00a0iaip ÄÆdomu, kaip ÄÆsivaizduoji. VisÅ³ pirma tam reikia laiko.", "", "Šiaip įdomu, kaip įsivaizduoji. Visų pirma tam reikia laiko."},
	{"Lithuanian via Windows-1250", "Lietuva pagrÄŻstai gali paklausti: Ĺ˝inoma, kad ne.", "", "Lietuva pagrįstai gali paklausti: Žinoma, kad ne."},
	{"Hebrew via Windows-1252", "×‘×”×•×“×¢×”", "", "בהודעה"},
	{"wide comma", "Ningboï¼ŒChina", "Ningbo，China", "Ningbo,China"},
	// Language names from one language selector.
	{"Czech", "ÄŒeÅ¡tina", "", "Čeština"},
	{"Gaelic", "GÃ\u00a0idhlig", "", "Gàidhlig"},
	{"Lithuanian", "LietuviÅ³", "", "Lietuvių"},
	{"Slovak, a byte lost", "SlovenÄ�ina", "", "Sloven�ina"},
	{"Vietnamese names", "Tiáº¿ng Viá»‡t", "", "Tiếng Việt"},
	{"Greek", "Î•Î»Î»Î·Î½Î¹ÎºÎ¬", "", "Ελληνικά"},
	{"Bulgarian", "Ð±ÑŠÐ»Ð³Ð°Ñ€Ñ�ÐºÐ¸ ÐµÐ·Ð¸Ðº", "", "българ�ки език"},
	{"Russian", "Ð ÑƒÑ�Ñ�ÐºÐ¸Ð¹", "", "Ру��кий"},
	{"Serbian", "CÑ€Ð¿Ñ�ÐºÐ¸ [Ñ›Ð¸Ñ€Ð¸Ð»Ð¸Ñ†Ð¾Ð¼]", "", "Cрп�ки [ћирилицом]"},
	{"Hebrew", "×¢×‘×¨×™×ª", "", "עברית"},
	{"Hindi", "à¤¹à¤¿à¤¨à¥�à¤¦à¥€", "", "\u0939\u093f\u0928\ufffd\u0926\u0940"},
	{"Tamil", "à®¤à®®à®¿à®´à¯�", "", "\u0ba4\u0bae\u0bbf\u0bb4\ufffd"},
	{"Thai, a lost no-break space", "à¸ à¸²à¸©à¸²à¹„à¸—à¸¢", "", "ภาษาไทย"},
	{"Simplified Chinese", "ç®€ä½“ä¸\u00adæ–‡", "", "简体中文"},
	{"Traditional Chinese", "æ\u00ad£é«”ä¸\u00adæ–‡", "", "正體中文"},
	{"Japanese", "æ—¥æœ¬èªž", "", "日本語"},
	{"Korean", "í•œêµ\u00adì–´", "", "한국어"},
	{"Czech via code page 437", "─îe┼ítina", "", "Čeština"},
	{"Vietnamese via code page 437", "Tiß║┐ng Viß╗çt", "", "Tiếng Việt"},
	// Negative: left as written (but for the other fixers).
	{"Brontë", "I'm not such a fan of Charlotte Brontë…”", "I'm not such a fan of Charlotte Brontë…”", "I'm not such a fan of Charlotte Brontë…\""},
	{"Swedish product", "AHÅ™, the new sofa from IKEA", "", "AHÅ™, the new sofa from IKEA"},
	{"Ukrainian capitals", "ВІКІ is Ukrainian for WIKI", "", "ВІКІ is Ukrainian for WIKI"},
	{"literal U+001A", "These control characters \u001a are apparently intentional \u0081",
		"These control characters \u001a are apparently intentional \u0081", "These control characters  are apparently intentional \u0081"},
	{"Ångström", "a radius of 10 Å—", "", "a radius of 10 Å—"},
	{"Spanish exclamation marks", "!YO SÉ¡", "", "!YO SÉ¡"},
	{"Romanian before a no-break space", "NICIODATĂ\u00a0", "", "NICIODATĂ\u00a0"},
	{"curly apostrophe", "There are a lot of Ã’s in mojibake text", "There are a lot of Ã’s in mojibake text", "There are a lot of Ã's in mojibake text"},
	{"Romanian before a trademark", "NICIODATĂ™", "", "NICIODATĂ™"},
	{"Lithuanian before a trademark", "TRANSFORMATORIŲ™", "", "TRANSFORMATORIŲ™"},
	{"Norwegian", "HÅØYA ER BLÅØYD", "", "HÅØYA ER BLÅØYD"},
	{"kaomoji", "Ō¬o", "", "Ō¬o"},
	{"Serbian camel case", "ПоздравЂаво", "", "ПоздравЂаво"},
	{"Greek diaereses as quotes", "Η ¨ανατροφή¨ δυστυχώς από τους προπονητές", "", "Η ¨ανατροφή¨ δυστυχώς από τους προπονητές"},
	{"multiplication sign in quotes", "higher values (“+” and “×” curves)", "higher values (“+” and “×” curves)", "higher values (\"+\" and \"×\" curves)"},
	{"Latin-1 or MacRoman", "Bremer/Mccoy – DrÃ¥ber", "", "Bremer/Mccoy – DrÃ¥ber"},
	{"è after a no-break space", "ammaccato,\u00a0è come se", "", "ammaccato,\u00a0è come se"},
	{"multiplication and ellipsis", "4288×…", "", "4288×…"},
	{"acute accents as quotes", "``toda produzida pronta pra assa aí´´", "", "``toda produzida pronta pra assa aí´´"},
	{"Õ and ellipsis", "HUHLL Õ…", "", "HUHLL Õ…"},
	{"É and apostrophe", "Join ZZAJÉ’s Official Fan List", "Join ZZAJÉ’s Official Fan List", "Join ZZAJÉ's Official Fan List"},
	{"apostrophe and é", "L’épisode 8 est trop fou ouahh", "L’épisode 8 est trop fou ouahh", "L'épisode 8 est trop fou ouahh"},
	{"Ôôô", "Ôôô VIDA MINHA", "", "Ôôô VIDA MINHA"},
	{"copyright after a no-break space", "[x]\u00a0©", "", "[x]\u00a0©"},
	{"dash and infinity", "2012—∞", "", "2012—∞"},
	{"angry face", "OK??:(   `¬´    ):", "", "OK??:(   `¬´    ):"},
	{"raised eyebrow", "( o¬ô )", "", "( o¬ô )"},
	{"Portuguese É¿", "ESSE CARA AI QUEM É¿", "", "ESSE CARA AI QUEM É¿"},
	{"Finnish Ä", "SELKÄ\u00a0EDELLÄ\u00a0MAAHAN via @YouTube", "", "SELKÄ\u00a0EDELLÄ\u00a0MAAHAN via @YouTube"},
	{"5×£35", "Offering 5×£35 pin ups", "", "Offering 5×£35 pin ups"},
	{"NESTLÉ®", "NESTLÉ® requiere contratar personal", "", "NESTLÉ® requiere contratar personal"},
	{"Āø", "Connect with Āø on Facebook", "", "Connect with Āø on Facebook"},
	{"only C1 controls", "beaucoup parlé\u0085 Tu sais, ça fait", "", "beaucoup parlé… Tu sais, ça fait"},
	{"spaced letters", "C O N C L U S Ã O", "", "C O N C L U S Ã O"},
	{"concatenated strings", "Oborzos, per. Vahbarz, frataraká§ 141", "", "Oborzos, per. Vahbarz, frataraká§ 141"},
	{"math", "(-1/2)! = √π", "", "(-1/2)! = √π"},
	{"line art", "├┤a┼┐a┼┐a┼┐a┼┐a", "", "├┤a┼┐a┼┐a┼┐a┼┐a"},
}

// TestFixTextMojibake runs ftfy's own cases through FixText and fixEncoding,
// and, as ftfy's tests do, each again under one more layer of mojibake (its
// UTF-8 read as Latin-1), which must come out the same.
func TestFixTextMojibake(t *testing.T) {
	for _, c := range mojibakeCases {
		if got := FixText(c.in); got != c.fixed {
			t.Errorf("%s: FixText(%q)\n = %q\nwant %q", c.label, c.in, got, c.fixed)
		}
		want := c.fixedEncoding
		if want == "" {
			want = c.fixed
		}
		if got := fixEncoding(c.in); got != want {
			t.Errorf("%s: fixEncoding(%q)\n = %q\nwant %q", c.label, c.in, got, want)
		}
		if got := FixText(latin1OfUTF8(c.in)); got != c.fixed {
			t.Errorf("%s: one more layer: FixText(%q)\n = %q\nwant %q", c.label, latin1OfUTF8(c.in), got, c.fixed)
		}
	}
}

// latin1OfUTF8 is s's UTF-8 read as Latin-1: one more layer of mojibake.
func latin1OfUTF8(s string) string {
	rs := make([]rune, len(s))
	for i := 0; i < len(s); i++ {
		rs[i] = rune(s[i])
	}
	return string(rs)
}

// TestByteCodecsMatchPython compares each codec's table with CPython's
// (testdata/python_codecs.txt, written by scripts/python-codecs.py): the
// standard tables where Python defines the byte, and ftfy's sloppy rule
// where it does not.
func TestByteCodecsMatchPython(t *testing.T) {
	f, err := os.Open("testdata/python_codecs.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	python := map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) == 257 {
			python[fields[0]] = fields[1:]
		}
	}
	codecs := mojibakeCodecs()
	all := append(append([]*byteCodec{codecs.windows1252}, codecs.tried...), codecs.lookalikes...)
	checked := 0
	for _, c := range all {
		name := strings.TrimPrefix(c.name, "sloppy-")
		table, ok := python[name]
		if !ok {
			if name == "latin-1" {
				continue // the identity
			}
			t.Fatalf("no Python table for %s", name)
		}
		for b := 0; b < 256; b++ {
			want := utf8.RuneError
			if table[b] != "----" {
				v, err := strconv.ParseUint(table[b], 16, 32)
				if err != nil {
					t.Fatal(err)
				}
				want = rune(v)
			} else if c.sloppy {
				want = rune(b)
			}
			if c.sloppy && b == 0x1A {
				want = utf8.RuneError
			}
			if c.decode[b] != want {
				t.Errorf("%s: byte %02X decodes to %U, want %U", c.name, b, c.decode[b], want)
			}
			checked++
		}
		for r, b := range c.encode {
			if c.decode[b] != r {
				t.Errorf("%s: %U encodes to %02X, which decodes to %U", c.name, r, b, c.decode[b])
			}
		}
	}
	if checked < 16*256 {
		t.Errorf("checked %d bytes, want all of 16 codecs", checked)
	}
}

// TestUTF8CluesMatchFtfy checks the derived clue sets against the sizes and
// members of ftfy 6.3's tables (chardata.UTF8_CLUES).
func TestUTF8CluesMatchFtfy(t *testing.T) {
	u := embeddedUTF8Clues()
	sizes := []struct {
		name string
		set  runeSet
		want int
	}{
		{"first of 2", u.first2, 124}, {"first of 3", u.first3, 66}, {"first of 4", u.first4, 9},
		// 0x80..0xBF, the space, and 94 more.
		{"continuation", u.cont, 64 + 1 + 94}, {"strict continuation", u.contStrict, 64 + 94 - 11},
	}
	for _, s := range sizes {
		if len(s.set) != s.want {
			t.Errorf("%s: %d characters, want %d: %q", s.name, len(s.set), s.want, string(s.set.sorted()))
		}
	}
	for _, m := range []struct {
		set   runeSet
		chars string
	}{{u.first2, "ÂÃĂĀ×ßΒάВЯ"}, {u.first3, "àáâăąæΰαоап"}, {u.first4, "ðđğóšπσру"}, {u.cont, "\u0080¿ €ŠœЂџ–”™№"}, {u.contStrict, "\u0080¿€ŠЂ™"}} {
		for _, r := range m.chars {
			if !m.set[r] {
				t.Errorf("%q is missing from a clue set", r)
			}
		}
	}
	for _, r := range " –—―‘’‚“”„•…" {
		if u.contStrict[r] {
			t.Errorf("%q is in the strict continuation set", r)
		}
	}
}

// TestIsBad checks sequences ftfy's heuristic flags, and text it leaves.
func TestIsBad(t *testing.T) {
	bad := []string{"cafÃ©", "â€œ", "\u0085", "Ã ", "x Ã¥", "aoÃ»t", "вЂ™", "Ø±Ø³", "ā€", "¬√ü", "Œ1"}
	good := []string{"café", "naïve façade", "“quoted”", "Ã", "Œuvre", "C O N C L U S Ã O", "√π", "5×£35", "Ōo", "Œx", ""}
	for _, s := range bad {
		if !isBad(s) {
			t.Errorf("isBad(%q) = false, want true", s)
		}
	}
	for _, s := range good {
		if isBad(s) {
			t.Errorf("isBad(%q) = true, want false", s)
		}
	}
}

// TestDecodeUTF8Variant: CESU-8 pairs and Java's NUL decode; lone
// surrogates, truncation and other invalid UTF-8 fail.
func TestDecodeUTF8Variant(t *testing.T) {
	ok := []struct {
		in   string
		want string
	}{
		{"\xed\xa0\xbd\xed\xb8\x8d", "😍"},
		{"a\xc0\x80b", "a\x00b"},
		{"é\xed\xa0\xbd\xed\xb8\x80€", "é😀€"},
		{"\xed\x9f\xbf", "\ud7ff"},
	}
	for _, c := range ok {
		if got, good := decodeUTF8Variant([]byte(c.in)); !good || got != c.want {
			t.Errorf("decodeUTF8Variant(%q) = %q, %v; want %q", c.in, got, good, c.want)
		}
	}
	for _, in := range []string{"\xed\xa0\xbd", "\xed\xa0\xbd\xed\xb8", "\xc0\x81", "\xc0", "a\xff", "\xed\xb8\x8d\xed\xa0\xbd"} {
		if got, good := decodeUTF8Variant([]byte(in)); good {
			t.Errorf("decodeUTF8Variant(%q) = %q, want a failure", in, got)
		}
	}
}

// TestByteTranscoders checks restoreByteA0 and replaceLossySequences.
func TestByteTranscoders(t *testing.T) {
	restore := []struct{ in, want string }{
		{"\xc3 la", "\xc3\xa0 la"},          // "à la"
		{"\xc3 s crian", "\xc3\xa0s crian"}, // "às": the space goes
		{"\xc3 quele", "\xc3\xa0quele"},     // "àquele"
		{"\xc3  x", "\xc3\xa0 x"},           // the first of two spaces
		{"\xc2 x", "\xc2\xa0x"},             // a no-break space
		{"\xe2\x80 x", "\xe2\x80\xa0x"},     // a dagger
		{"\xe2 \x80", "\xe2\xa0\x80"},       // E2 A0 80
		{"\xe2\x85 x", "\xe2\x85 x"},        // 0x85 is left out
		{"\xf0\x9f \x80", "\xf0\x9f\xa0\x80"},
		{"\xe4\x80 x", "\xe4\x80 x"}, // CJK leads are left out
	}
	for _, c := range restore {
		if got := string(restoreByteA0([]byte(c.in))); got != c.want {
			t.Errorf("restoreByteA0(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	lossy := []struct{ in, want string }{
		{"\xe2\x80\x1a", "\ufffd"},
		{"\xe2\x80?", "\ufffd"},
		{"\xc3?", "\ufffd"},
		{"\xc4?", "\xc4?"}, // only C2 and C3 take a '?'
		{"\xc4\x1a", "\ufffd"},
		{"\xf0\x9f\x1a\x80", "\ufffd"},
		{"\xed\xa0\x1a\xed\xb8\x8d", "\ufffd"},
		{"a\x1ab", "a\ufffdb"},
		{"a?b", "a?b"},
	}
	for _, c := range lossy {
		if got := string(replaceLossySequences([]byte(c.in))); got != c.want {
			t.Errorf("replaceLossySequences(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// benchCaptions are captions as they come: plain ASCII, accented, curly
// quotes, and mojibake.
var benchCaptions = []string{
	"a photo of a dog on the beach",
	"a red circle on a white background, with a small blue square",
	"Café “Le Dôme” in Montparnasse, Paris",
	"Tại sao giá hạt sầu riêng lại lên giá?",
	"HÃ´tel de Police, Ã  cÃ´tÃ© de la gare",
	"The Mona Lisa doesnÃƒÂ¢Ã¢â€šÂ¬Ã¢â€žÂ¢t have eyebrows.",
	"ï¼¡ fullwidth caption with an emoji ðŸ˜€",
	"Ελληνικά και русский текст",
}

// BenchmarkFixText: ftfy's cleaning of one caption (the mix above).
func BenchmarkFixText(b *testing.B) {
	for i := 0; i < b.N; i++ {
		FixText(benchCaptions[i%len(benchCaptions)])
	}
}

// BenchmarkBPEEncode: a whole caption to token ids (cleaning, FixText,
// pre-tokenizing, BPE with its cache warm).
func BenchmarkBPEEncode(b *testing.B) {
	tok := loadTestBPE(b)
	for i := 0; i < b.N; i++ {
		tok.Encode(benchCaptions[i%len(benchCaptions)])
	}
}
