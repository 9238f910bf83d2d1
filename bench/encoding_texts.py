"""Texts for ``bench.encoding_eval``: a few paragraphs per language, written for the benchmark.

Each is ordinary prose (travel, everyday life, a software manual, a weather report, a recipe) of
300 to 500 characters, the length of a short real file. ``ENCODING_LANGUAGES`` says which
languages each legacy encoding is meant for; the benchmark encodes the texts of those languages
that the encoding can represent (curly quotes, ``œ`` or ``€`` are not in ISO-8859-1, for example).
"""

from __future__ import annotations

__all__ = ["ENCODING_LANGUAGES", "TEXTS", "UNICODE_LANGUAGES"]

TEXTS: dict[str, tuple[str, ...]] = {
    "en": (
        "The café on the corner has been run by the same family since 1962. Every morning, Mrs. Hoffmann — now "
        "in her eighties — still bakes the croissants herself, and regulars swear they’re the best in town. “We "
        "never changed the recipe,” her grandson told me, “only the price.” On weekends the queue stretches past "
        "the bookshop next door, and the tables outside fill up long before noon.",
    ),
    "fr": (
        "Le musée a rouvert ses portes après deux années de travaux. Les visiteurs peuvent désormais découvrir "
        "une collection élargie de peintures impressionnistes, ainsi qu'une salle consacrée aux sculptures du "
        "dix-neuvième siècle. Le directeur a expliqué que l'éclairage avait été entièrement repensé afin de "
        "préserver les œuvres les plus fragiles. L'entrée reste gratuite le premier dimanche de chaque mois.",
        "Ce matin, j'ai pris le train de sept heures pour aller voir ma grand-mère à Lyon. Pendant le trajet, "
        "j'ai lu un roman policier très prenant et je n'ai presque pas regardé le paysage. À mon arrivée, elle "
        "m'attendait sur le quai avec un gâteau aux pommes qu'elle avait préparé la veille. Nous avons passé "
        "l'après-midi à parler de la famille, à feuilleter de vieilles photos et à boire du thé.",
    ),
    "de": (
        "Die Stadtverwaltung hat beschlossen, die Öffnungszeiten der Bibliothek zu verlängern. Ab nächster Woche "
        "können Bürgerinnen und Bürger auch samstags bis achtzehn Uhr Bücher ausleihen. Außerdem werden "
        "zusätzliche Arbeitsplätze mit schnellem Internetzugang eingerichtet. Die Bürgermeisterin betonte, dass "
        "gerade Schüler und Studenten von diesem Angebot profitieren würden, weil viele zu Hause keinen ruhigen "
        "Platz zum Lernen hätten.",
        "Für den Kuchen die weiche Butter mit dem Zucker schaumig rühren und nach und nach die Eier hinzufügen. "
        "Anschließend Mehl, Backpulver und eine Prise Salz unterheben. Die Äpfel schälen, in dünne Scheiben "
        "schneiden und gleichmäßig auf dem Teig verteilen. Im vorgeheizten Ofen bei hundertachtzig Grad etwa "
        "fünfundvierzig Minuten backen. Vor dem Servieren mit Puderzucker bestäuben und lauwarm genießen.",
    ),
    "es": (
        "El pequeño pueblo de montaña celebra cada agosto una fiesta que atrae a visitantes de toda la región. "
        "Durante tres días, las calles se llenan de música, bailes tradicionales y puestos de comida donde se "
        "pueden probar quesos, embutidos y dulces caseros. Los vecinos más mayores cuentan que la tradición "
        "comenzó hace más de doscientos años, cuando los pastores volvían de los pastos de verano. ¿Quién no "
        "querría vivir algo así?",
    ),
    "pt": (
        "A cidade de Lisboa é conhecida pelas suas colinas, pelos elétricos amarelos e pelas vistas "
        "deslumbrantes sobre o rio Tejo. Nos bairros antigos, como Alfama e a Mouraria, as ruas estreitas "
        "escondem pequenas tascas onde se pode ouvir fado ao fim da tarde. Muitos turistas não resistem aos "
        "pastéis de nata, que são vendidos ainda quentes e polvilhados com canela. É uma cidade que se descobre "
        "melhor a pé, sem pressa nenhuma.",
    ),
    "it": (
        "Il treno per Firenze è partito con quasi un'ora di ritardo a causa di un guasto sulla linea. I "
        "passeggeri, però, non hanno perso il buonumore: qualcuno ha tirato fuori un mazzo di carte, altri hanno "
        "condiviso panini e bibite. Arrivati in città, molti si sono diretti subito verso il Duomo e la Galleria "
        "degli Uffizi. La sera, in una trattoria vicino a Ponte Vecchio, abbiamo mangiato la ribollita e bevuto "
        "un ottimo Chianti.",
    ),
    "pl": (
        "W sobotę rano pojechaliśmy nad jezioro. Pogoda była piękna, więc rozłożyliśmy koc na trawie, a dzieci "
        "od razu pobiegły do wody. Mąż rozpalił grilla i przygotował kiełbaski, ja zaś kroiłam ogórki i "
        "pomidory na sałatkę. Wieczorem, kiedy słońce zaczęło zachodzić, wszyscy byliśmy zmęczeni, ale bardzo "
        "szczęśliwi. Obiecaliśmy sobie, że wrócimy tu jeszcze w sierpniu.",
        "Aby zainstalować aplikację, pobierz najnowszą wersję ze strony producenta i uruchom instalator. "
        "Podczas instalacji zostaniesz poproszony o wybór katalogu docelowego oraz języka interfejsu. Po "
        "zakończeniu konfiguracji należy zalogować się przy użyciu danych otrzymanych w wiadomości e-mail. W "
        "razie problemów skontaktuj się z działem pomocy technicznej.",
    ),
    "cs": (
        "Vědci z Akademie věd zjistili, že řeky v České republice obsahují stále více mikroplastů. Vzorky "
        "odebírali během celého roku na dvaceti různých místech. Nejvyšší koncentrace naměřili pod velkými "
        "městy, kde do řek ústí čistírny odpadních vod. Podle výzkumníků je nutné zlepšit technologie čištění a "
        "omezit používání jednorázových plastových výrobků.",
        "Před prvním spuštěním programu si pečlivě přečtěte tuto příručku. Zařízení připojte k elektrické síti "
        "až poté, co jste zkontrolovali, že napětí odpovídá údajům na štítku. Nastavení lze kdykoli změnit v "
        "nabídce Možnosti. Pokud se na displeji objeví chybové hlášení, vypněte přístroj, počkejte několik "
        "minut a zkuste to znovu.",
    ),
    "hu": (
        "A Balaton Közép-Európa legnagyobb édesvízi tava, nyaranta több százezer turista keresi fel. A déli "
        "part sekély vize különösen a családok körében népszerű, míg az északi oldalon szőlőültetvények és régi "
        "borospincék várják a látogatókat. Tihany apátsága és a keszthelyi Festetics-kastély az ország "
        "leghíresebb műemlékei közé tartozik. Ősszel a tó környéke csendesebb, de a szüreti fesztiválok "
        "ilyenkor is sok embert vonzanak.",
    ),
    "sk": (
        "Vysoké Tatry sú najvyššie pohorie Slovenska a obľúbený cieľ turistov počas celého roka. V lete sa po "
        "horských chodníkoch dá vystúpiť až na Rysy, odkiaľ je nádherný výhľad do Poľska. V zime sa Štrbské "
        "Pleso mení na lyžiarske stredisko s modernými vlekmi. Miestni ľudia radi rozprávajú o dávnych "
        "zbojníkoch, ktorí sa podľa povesti ukrývali v tunajších lesoch.",
    ),
    "hr": (
        "Dubrovnik je jedan od najljepših gradova na Jadranu. Njegove kamene zidine, duge gotovo dva kilometra, "
        "okružuju staru jezgru punu uskih ulica, crkava i palača. Ljeti grad posjećuje velik broj turista, pa "
        "je šetnja Stradunom u podne ponekad prava gužva. Mještani savjetuju da se zidine obiđu rano ujutro ili "
        "kasno poslijepodne, kad je sunce blaže, a pogled na more i otoke najljepši.",
    ),
    "tr": (
        "Sabah erkenden kalktım, çayımı demledim ve pencerenin önüne oturdum. Sokakta simitçi bağırıyor, "
        "çocuklar okula yetişmeye çalışıyordu. Komşumuz Ayşe Hanım balkonda çiçeklerini suluyor, bir yandan da "
        "aşağıdaki manavla sohbet ediyordu. Günün ilk ışıkları denizin üzerinde parıldarken, şehrin gürültüsü "
        "yavaş yavaş artmaya başladı.",
        "Bu kılavuz, yazılımın kurulumunu ve ilk yapılandırmasını adım adım açıklar. Öncelikle sisteminizin "
        "gereksinimleri karşıladığından emin olun: en az dört gigabayt bellek ve güncel bir işletim sistemi "
        "gereklidir. Kurulum sihirbazını başlattıktan sonra lisans sözleşmesini okuyun, kabul edin ve hedef "
        "klasörü seçin. İşlem tamamlandığında bilgisayarınızı yeniden başlatmanız önerilir.",
        "Meteoroloji Genel Müdürlüğü, hafta sonu Karadeniz kıyılarında kuvvetli yağış beklendiğini duyurdu. "
        "Yetkililer, özellikle dere yataklarının çevresinde yaşayan vatandaşların dikkatli olmalarını ve "
        "gereksiz yolculuklardan kaçınmalarını istedi. İç Anadolu'da ise sıcaklıkların mevsim normallerinin "
        "üzerinde seyredeceği, rüzgârın zaman zaman kuvvetlenebileceği bildirildi.",
        "Mercimek çorbası için önce soğanı ince ince doğrayıp tereyağında kavurun. Ardından havucu ve patatesi "
        "ekleyin, birkaç dakika karıştırdıktan sonra yıkanmış kırmızı mercimeği tencereye alın. Üzerini "
        "geçecek kadar sıcak su ekleyip kısık ateşte pişirin. Mercimekler iyice yumuşayınca çorbayı blenderdan "
        "geçirin, tuz ve kırmızı biberle tatlandırıp limonla servis edin.",
        "Eskişehir, Porsuk Çayı'nın iki yakasına kurulmuş sakin ve genç bir üniversite şehridir. Gondollar "
        "çayın üzerinde süzülürken, kıyıdaki kafelerde öğrenciler ders çalışır ya da arkadaşlarıyla sohbet "
        "eder. Odunpazarı'nın renkli ahşap evleri, dar sokakları ve lületaşı atölyeleri ziyaretçilerin ilgisini "
        "çeker. Akşamları çiğ börek yemeden şehirden ayrılmak neredeyse imkânsızdır.",
    ),
    "ru": (
        "Вчера вечером мы с друзьями ходили в кино на новый фильм. Сюжет оказался довольно запутанным, но "
        "актёры сыграли великолепно, а музыка создавала особую атмосферу. После сеанса мы зашли в небольшое "
        "кафе, заказали чай с пирогами и долго спорили о том, чем же на самом деле закончилась история. Домой я "
        "вернулся уже за полночь, уставший, но довольный.",
        "Для установки программы скачайте архив с официального сайта и распакуйте его в любую папку. Затем "
        "запустите файл установки и следуйте инструкциям на экране. Если система запросит разрешение на "
        "внесение изменений, подтвердите его. После завершения установки рекомендуется перезагрузить компьютер "
        "и проверить наличие обновлений в разделе настроек.",
        "Синоптики предупреждают, что в ближайшие выходные в центральных регионах страны ожидается резкое "
        "похолодание. Ночью температура опустится до минус пятнадцати градусов, а днём будет дуть сильный "
        "северный ветер. Жителей просят по возможности не выезжать на дачи и заранее проверить отопление. "
        "Водителям советуют сменить шины и быть особенно внимательными на дорогах.",
        "Москва - столица России и крупнейший город страны. Здесь находятся Кремль, Красная площадь и "
        "множество музеев, театров и парков. Каждый день миллионы людей пользуются метро, которое считается "
        "одним из самых красивых в мире: многие станции украшены мозаиками, скульптурами и люстрами. Зимой "
        "город покрывается снегом, и на площадях открываются катки и праздничные ярмарки.",
    ),
    "uk": (
        "Київ - одне з найстаріших міст Східної Європи, його історія налічує понад півтори тисячі років. Золоті "
        "бані Києво-Печерської лаври видно здалеку, а на Хрещатику завжди багато людей. Навесні в місті "
        "цвітуть каштани, і кияни люблять гуляти схилами Дніпра, милуючись краєвидами. Місцеві жителі радо "
        "розповідають гостям легенду про засновників міста - трьох братів та їхню сестру Либідь.",
    ),
    "bg": (
        "София е столицата на България и най-големият град в страната. Тя е разположена в подножието на "
        "планината Витоша, където през зимата мнозина карат ски, а през лятото се разхождат сред боровите гори. "
        "В центъра на града се издига катедралата Свети Александър Невски, един от символите на столицата. "
        "Наблизо има много кафенета, малки книжарници и пазари за цветя.",
        "Баба ми всяка есен приготвяше лютеница по стара семейна рецепта. Цял ден печеше червени чушки и "
        "домати на двора, после ги белеше и ги мелеше, докато къщата не се изпълнеше с уханието им. Ние, "
        "децата, помагахме да се пълнят бурканите и нямахме търпение да опитаме първата филия хляб с прясна "
        "лютеница. Сега, когато живея в града, често си спомням тези топли есенни дни.",
    ),
    "el": (
        "Το καλοκαίρι πήγαμε διακοπές σε ένα μικρό νησί των Κυκλάδων. Κάθε πρωί κολυμπούσαμε στα καταγάλανα "
        "νερά και το μεσημέρι τρώγαμε φρέσκο ψάρι σε μια ταβέρνα δίπλα στη θάλασσα. Τα βράδια περπατούσαμε στα "
        "λευκά σοκάκια του χωριού και χαζεύαμε το ηλιοβασίλεμα από το κάστρο. Οι κάτοικοι ήταν πολύ φιλόξενοι "
        "και μας κέρασαν σπιτικό γλυκό του κουταλιού.",
        "Για να εγκαταστήσετε την εφαρμογή, κατεβάστε το αρχείο από την επίσημη ιστοσελίδα και ανοίξτε το. "
        "Ακολουθήστε τις οδηγίες που εμφανίζονται στην οθόνη και επιλέξτε τον φάκελο εγκατάστασης. Μετά την "
        "ολοκλήρωση, θα χρειαστεί να επανεκκινήσετε τον υπολογιστή σας. Αν αντιμετωπίσετε οποιοδήποτε "
        "πρόβλημα, επικοινωνήστε με την ομάδα υποστήριξης μέσω ηλεκτρονικού ταχυδρομείου.",
        "Σύμφωνα με την Εθνική Μετεωρολογική Υπηρεσία, τις επόμενες ημέρες αναμένονται ισχυρές βροχές και "
        "καταιγίδες στη δυτική και βόρεια Ελλάδα. Οι άνεμοι θα πνέουν από νότιες διευθύνσεις με ένταση έως "
        "οκτώ μποφόρ στο Ιόνιο. Οι αρχές συνιστούν στους πολίτες να αποφεύγουν τις άσκοπες μετακινήσεις και να "
        "ακολουθούν τις οδηγίες της Πολιτικής Προστασίας.",
        "Για τον μουσακά χρειάζεστε μελιτζάνες, πατάτες, κιμά, ντομάτες, κρεμμύδι και μπεσαμέλ. Αρχικά "
        "τηγανίζετε ή ψήνετε τις μελιτζάνες και τις πατάτες σε φέτες. Σε ένα τηγάνι σοτάρετε το κρεμμύδι με τον "
        "κιμά, προσθέτετε τις ντομάτες και αφήνετε τη σάλτσα να πάρει μερικές βράσεις. Στρώνετε τα υλικά σε "
        "ταψί, καλύπτετε με την μπεσαμέλ και ψήνετε για περίπου μία ώρα.",
        "Η Θεσσαλονίκη είναι η δεύτερη μεγαλύτερη πόλη της χώρας και είναι χτισμένη στον μυχό του Θερμαϊκού "
        "κόλπου. Ο Λευκός Πύργος, σύμβολο της πόλης, στέκεται στην παραλία, όπου οι κάτοικοι κάνουν βόλτες "
        "κάθε απόγευμα. Η πόλη φημίζεται για τις βυζαντινές εκκλησίες της, τη ζωντανή φοιτητική ζωή και, "
        "φυσικά, για την μπουγάτσα που τρώγεται ζεστή για πρωινό.",
    ),
    "ja": (
        "昨日は久しぶりに友人と会って、駅前の小さな喫茶店でコーヒーを飲みました。お互いの仕事や家族の話をしているうちに、"
        "あっという間に三時間が過ぎてしまいました。帰り道、雨が降り始めたので、近くのコンビニで傘を買いました。家に着いて"
        "から、次はいつ会えるだろうかと考えながら、温かいお茶を入れてゆっくり休みました。",
        "このソフトウェアをインストールするには、まず公式サイトから最新版をダウンロードしてください。ダウンロードしたファ"
        "イルを開き、画面の指示に従ってインストール先のフォルダを選択します。インストールが完了したら、パソコンを再起動し"
        "てください。問題が発生した場合は、サポートセンターまでメールでお問い合わせください。",
        "気象庁によりますと、週末にかけて西日本を中心に大雨となるおそれがあります。特に九州地方では、一時間に五十ミリを"
        "超える非常に激しい雨が降る可能性があり、土砂災害や河川の氾濫に警戒が必要です。自治体は早めの避難を呼びかけて"
        "おり、住民の皆さんには最新の気象情報に注意するよう求めています。",
        "味噌汁を作るときは、まず昆布とかつお節でだしを取ります。鍋に水と昆布を入れて弱火で温め、沸騰する直前に昆布を"
        "取り出します。次にかつお節を加えて数分煮てから、こします。豆腐やわかめ、ねぎなど好きな具を入れて軽く煮たら、火"
        "を止めて味噌を溶かし入れます。味噌を入れた後は煮立たせないのが、おいしく作るこつです。",
        "京都には千年以上の歴史を持つ寺や神社が数多く残っています。秋になると、嵐山や東福寺の紅葉を見るために、国内外"
        "から大勢の観光客が訪れます。祇園の石畳の道を歩いていると、着物姿の人とすれ違うことも珍しくありません。夕方に"
        "は鴨川のほとりに座って、ゆっくりと流れる川を眺めるのがおすすめです。",
    ),
    "zh_hans": (
        "上个周末，我和家人去郊区的农场摘草莓。那天天气很好，阳光明媚，田野里到处都是红彤彤的果实。孩子们一边摘一边吃，"
        "开心得不得了。中午我们在农家乐吃了一顿地道的家常菜，有红烧肉、炒青菜和鸡蛋汤。回家的路上，大家都累了，但是每个"
        "人都觉得这是一次非常难忘的旅行。",
        "安装本软件之前，请确认您的电脑满足最低配置要求。首先从官方网站下载最新版本的安装包，然后双击运行安装程序，并按"
        "照屏幕上的提示完成设置。安装完成后，建议重新启动电脑。如果在使用过程中遇到任何问题，请通过电子邮件联系我们的技"
        "术支持团队，我们会尽快为您解答。",
        "据气象部门预报，未来三天我国南方地区将出现大范围强降雨天气，部分地区可能伴有雷电和大风。有关部门提醒广大市民，"
        "雨天出行要注意交通安全，尽量避免前往山区和河边等危险地带。同时，各地防汛部门已经做好了应急准备，随时应对可能发"
        "生的洪涝灾害。",
        "做西红柿炒鸡蛋其实很简单。先把西红柿洗干净，切成小块，再把鸡蛋打散，加一点盐搅拌均匀。锅里倒油，油热后先把鸡"
        "蛋炒熟盛出来。然后用剩下的油炒西红柿，炒出汤汁后放入鸡蛋，加少许白糖和盐，翻炒几下就可以出锅了。这道菜酸甜可"
        "口，非常适合配米饭。",
        "杭州的西湖自古以来就是文人墨客喜爱的地方。春天，苏堤两岸的柳树发出嫩绿的新芽，桃花也竞相开放；夏天，湖面上开满"
        "了荷花；秋天可以闻到桂花的香味；冬天下雪的时候，断桥上的景色更是美不胜收。很多游客喜欢租一辆自行车，沿着湖边慢"
        "慢地骑，累了就找一家茶馆，喝一杯龙井茶。",
    ),
    "zh_hant": (
        "昨天下午我去圖書館借了幾本書，其中一本是關於古代歷史的小說。回家以後，我泡了一壺烏龍茶，坐在窗邊慢慢地讀。外面"
        "下著小雨，街上很安靜，只聽得到雨滴打在屋簷上的聲音。不知不覺天就黑了，我才發現自己已經讀了一百多頁。這樣悠閒的"
        "假日，真是難得。",
        "使用本產品之前，請詳細閱讀使用說明書。首先將電源線連接到插座，然後按下開關按鈕，等待指示燈亮起。如果螢幕沒有顯"
        "示任何畫面，請檢查連接線是否鬆脫。設定完成後，您可以透過手機應用程式遠端控制裝置。若有任何疑問，歡迎隨時與我們"
        "的客服中心聯絡。",
        "氣象局表示，颱風預計將在明天清晨登陸東部沿海地區，各地可能出現強風豪雨。政府已經宣布停班停課，並呼籲民眾盡量留"
        "在室內，避免前往海邊或山區。農民們連夜搶收農作物，許多商店的貨架上，泡麵和瓶裝水也很快就被買光了。",
        "傳統的中秋節，家家戶戶都會團聚在一起吃月餅、賞月亮。小時候，我最喜歡和表兄弟姊妹在院子裡提著燈籠跑來跑去，奶奶"
        "則會在一旁講嫦娥奔月的故事。現在大家工作都很忙，但是每年到了這一天，我們還是會想辦法回家，和長輩們一起吃一頓團"
        "圓飯。",
        "臺北是臺灣最大的城市，也是政治、經濟和文化的中心。到了晚上，夜市裡擠滿了人潮，小吃攤販賣著臭豆腐、滷肉飯和珍珠"
        "奶茶。搭乘捷運可以方便地到達市區各個景點，週末也有很多人到陽明山爬山，或者到北投泡溫泉，好好放鬆一下。",
    ),
    "ko": (
        "어제는 오랜만에 친구들과 함께 등산을 했습니다. 아침 일찍 출발해서 정상에 도착하니 벌써 점심시간이었습니다. 산 "
        "위에서 먹는 김밥과 컵라면은 정말 맛있었고, 눈앞에 펼쳐진 풍경은 그림처럼 아름다웠습니다. 내려오는 길에는 "
        "다리가 조금 아팠지만, 다음 달에 다시 오자고 약속하며 즐겁게 이야기를 나누었습니다.",
        "프로그램을 설치하려면 먼저 공식 홈페이지에서 최신 버전을 내려받으십시오. 내려받은 파일을 실행한 다음 화면에 "
        "나타나는 안내에 따라 설치 경로를 선택하면 됩니다. 설치가 끝나면 컴퓨터를 다시 시작하는 것이 좋습니다. 사용 "
        "중에 문제가 생기면 고객 지원 센터로 전자 우편을 보내 주시기 바랍니다.",
        "기상청은 이번 주말 남부 지방을 중심으로 많은 비가 내릴 것으로 예상된다고 밝혔습니다. 특히 제주도와 남해안에는 "
        "시간당 삼십 밀리미터 이상의 강한 비가 쏟아질 수 있어 피해가 없도록 주의해야 합니다. 정부는 저지대 주민들에게 "
        "미리 대피 준비를 해 달라고 당부했습니다.",
        "김치찌개를 만들려면 먼저 잘 익은 김치와 돼지고기를 준비합니다. 냄비에 기름을 조금 두르고 돼지고기를 볶다가 "
        "김치를 넣고 함께 볶습니다. 물을 붓고 끓기 시작하면 두부와 양파, 대파를 넣고 중간 불에서 이십 분 정도 더 "
        "끓입니다. 마지막으로 고춧가루와 간장으로 간을 맞추면 맛있는 김치찌개가 완성됩니다.",
        "부산은 대한민국에서 두 번째로 큰 도시이자 가장 큰 항구 도시입니다. 여름이 되면 해운대와 광안리 해수욕장은 "
        "피서객들로 가득 찹니다. 자갈치 시장에서는 싱싱한 생선과 해산물을 맛볼 수 있고, 감천 문화 마을의 알록달록한 "
        "집들은 사진을 찍으려는 관광객들에게 인기가 많습니다. 가을에는 국제 영화제가 열려 세계 각국의 영화인들이 "
        "모입니다.",
    ),
}

# Languages each legacy encoding is meant for, in the order their texts are taken.
ENCODING_LANGUAGES: dict[str, tuple[str, ...]] = {
    "cp1252": ("en", "fr", "de", "es", "pt", "it"),
    "iso-8859-1": ("fr", "de", "es", "pt", "it"),
    "iso-8859-15": ("fr", "de", "es", "pt", "it"),
    "iso-8859-2": ("pl", "cs", "hu", "sk", "hr"),
    "cp1250": ("pl", "cs", "hu", "sk", "hr"),
    "iso-8859-9": ("tr",),
    "cp1254": ("tr",),
    "koi8-r": ("ru", "bg"),
    "cp1251": ("ru", "uk", "bg"),
    "iso-8859-5": ("ru", "bg"),
    "iso-8859-7": ("el",),
    "cp1253": ("el",),
    "shift_jis": ("ja",),
    "euc-jp": ("ja",),
    "iso-2022-jp": ("ja",),
    "gb2312": ("zh_hans",),
    "gbk": ("zh_hans",),
    "gb18030": ("zh_hans",),
    "big5": ("zh_hant",),
    "euc-kr": ("ko",),
    "iso-2022-kr": ("ko",),
}
# Unicode encodings get one text of each of these languages.
UNICODE_LANGUAGES: tuple[str, ...] = ("fr", "ru", "el", "ja", "ko")
