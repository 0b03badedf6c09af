"""Every user-facing sentence, in English and Russian. Nothing else builds user-facing text."""

from __future__ import annotations

from typing import Final

_CATALOGUE: Final[dict[str, dict[str, str]]] = {
    # Helpers: add new keys in the section of your feature, keep both languages.
    "help": {
        "en": (
            "🎬 I turn your Suno tracks into MP4 music videos and post them right here.\n\n"
            "/video <taskId> <audioId> [author] — make a video\n"
            '  e.g. /video 5c79be8e e231cadc7dc "DJ Ann"\n'
            "/video <taskId> — pick one of the task's tracks\n"
            "/render <taskId> <audioId> [9:16|1:1|16:9] [nolyrics] [author] — render it myself, "
            "with karaoke lyrics; or just send me an audio file\n"
            "/teaser <taskId> <audioId> — a 15–30 s vertical clip from the chorus\n"
            "/karaoke <taskId> <audioId> [9:16|1:1|16:9] — a sing-along version without "
            "the vocals\n"
            "/loop <taskId> <audioId> — a silent 3–8 s Spotify Canvas loop\n"
            "/status [job] — how is my latest video (or job #N) doing?\n"
            "/list — recent videos; tap one to get it again\n"
            "/author <name> — default signature here (- clears)\n"
            "/domain <name> — default watermark here (- clears)\n"
            "/lyrics on|off|sweep|pop — karaoke lyrics in renders here, and their style\n"
            "/lyrics edit <taskId> <audioId> — fix a track's words here (/lyrics reset: "
            "the provider's again)\n"
            "/style pulse|bars|calm — how renders here move with the music\n"
            "/autopost @channel — also post the videos here to your channel\n"
            "/credits — remaining credits (bot admins)\n"
            "In any other chat, even one I'm not in: type my @username, then <taskId> "
            "<audioId> — the video appears right there\n\n"
            "taskId is the id of your music generation task; audioId is the id of one track "
            "in it (sunoData[].id). Both are in your music API's response or dashboard."
        ),
        "ru": (
            "🎬 Я превращаю треки Suno в музыкальные видео MP4 и присылаю их сюда.\n\n"
            "/video <taskId> <audioId> [автор] — сделать видео\n"
            '  напр. /video 5c79be8e e231cadc7dc "DJ Ann"\n'
            "/video <taskId> — выбрать трек из задачи\n"
            "/render <taskId> <audioId> [9:16|1:1|16:9] [nolyrics] [автор] — отрендерить "
            "самому, с караоке-текстом; или просто пришлите аудиофайл\n"
            "/teaser <taskId> <audioId> — вертикальный ролик 15–30 с с припева\n"
            "/karaoke <taskId> <audioId> [9:16|1:1|16:9] — версия для караоке без вокала\n"
            "/loop <taskId> <audioId> — беззвучный цикл 3–8 с для Spotify Canvas\n"
            "/status [номер] — как дела у последнего видео (или задачи №)?\n"
            "/list — последние видео; нажмите, чтобы получить снова\n"
            "/author <имя> — подпись по умолчанию в этом чате (- сбросить)\n"
            "/domain <имя> — водяной знак по умолчанию (- сбросить)\n"
            "/lyrics on|off|sweep|pop — караоке-текст в рендерах этого чата и его стиль\n"
            "/lyrics edit <taskId> <audioId> — исправить текст трека в этом чате "
            "(/lyrics reset — вернуть текст провайдера)\n"
            "/style pulse|bars|calm — как рендеры этого чата движутся под музыку\n"
            "/autopost @канал — также публиковать видео отсюда в ваш канал\n"
            "/credits — остаток кредитов (для админов бота)\n"
            "В любом другом чате, даже без меня в нём: наберите мой @username и <taskId> "
            "<audioId> — видео появится прямо там\n\n"
            "taskId — id задачи генерации музыки; audioId — id одного трека в ней "
            "(sunoData[].id). Оба есть в ответе музыкального API или в личном кабинете."
        ),
    },
    "usage_video": {
        "en": "Usage: /video <taskId> <audioId> [author]\ne.g. /video 5c79be8e e231cadc7dc DJ Ann",
        "ru": "Формат: /video <taskId> <audioId> [автор]\nнапр. /video 5c79be8e e231cadc7dc DJ Ann",
    },
    "bad_id": {
        "en": "“{value}” doesn't look like a {name}: use letters, digits, - and _ only.",
        "ru": "«{value}» не похоже на {name}: допустимы буквы, цифры, - и _.",
    },
    "author_too_long": {
        "en": "The author name is {length} characters long; the limit is {limit}. "
        "Please shorten it.",
        "ru": "Имя автора длиной {length} символов, а можно не больше {limit}. Сократите его.",
    },
    "status_submitting": {
        "en": "⏳ Sending your video request…",
        "ru": "⏳ Отправляю запрос на видео…",
    },
    "status_queued": {
        "en": "⏳ Queued: the video service takes a limited number of requests per minute. "
        "Yours goes out shortly.",
        "ru": "⏳ В очереди: видеосервис принимает ограниченное число запросов в минуту. "
        "Ваш уйдёт совсем скоро.",
    },
    "status_retrying": {
        "en": "⏳ The video service is busy; I will retry automatically.",
        "ru": "⏳ Видеосервис перегружен; я повторю попытку автоматически.",
    },
    "status_maintenance": {
        "en": "🛠 The video service is under maintenance; I will retry automatically.",
        "ru": "🛠 На видеосервисе техработы; я повторю попытку автоматически.",
    },
    "status_rendering": {
        "en": "🎞 Rendering your video… I'll post it here when it's ready.",
        "ru": "🎞 Видео рендерится… Пришлю его сюда, как только будет готово.",
    },
    "status_uploading": {
        "en": "📤 Your video is ready — posting it…",
        "ru": "📤 Видео готово — отправляю…",
    },
    "status_delivered": {
        "en": "✅ Done! Your video is posted.",
        "ru": "✅ Готово! Видео отправлено.",
    },
    "status_failed": {
        "en": "❌ {reason}",
        "ru": "❌ {reason}",
    },
    "status_timed_out": {
        "en": "⌛ The video took too long ({minutes} min) and I stopped waiting. "
        "Try /video again later.",
        "ru": "⌛ Видео делалось слишком долго ({minutes} мин), я перестал ждать. "
        "Попробуйте /video позже.",
    },
    "status_undeliverable": {
        "en": "⚠️ I could not post the video into this chat.",
        "ru": "⚠️ Не удалось отправить видео в этот чат.",
    },
    "reason_credits": {
        "en": "The video service is out of credits — the bot owner has been told.",
        "ru": "На видеосервисе закончились кредиты — владелец бота уже в курсе.",
    },
    "reason_unauthorized": {
        "en": "The bot's video-service key was refused — the bot owner has been told.",
        "ru": "Видеосервис не принял ключ бота — владелец бота уже в курсе.",
    },
    "reason_invalid_track": {
        "en": "The video service did not accept taskId {task_id} / audioId {audio_id}. "
        "Check that the audioId is a track of that task.",
        "ru": "Видеосервис не принял taskId {task_id} / audioId {audio_id}. "
        "Проверьте, что audioId — трек этой задачи.",
    },
    "reason_rate_limited": {
        "en": "The video service kept saying “too many requests”. Please try again later.",
        "ru": "Видеосервис всё время отвечал «слишком много запросов». Попробуйте позже.",
    },
    "reason_unavailable": {
        "en": "The video service could not be reached for a while. Please try again later.",
        "ru": "Видеосервис долго был недоступен. Попробуйте позже.",
    },
    "reason_provider_failed": {
        "en": "The video service could not make this video{detail}. Try again or pick another "
        "track.",
        "ru": "Видеосервис не смог сделать это видео{detail}. Попробуйте ещё раз или "
        "выберите другой трек.",
    },
    "reason_rejected": {
        "en": "The video service refused the request{detail}.",
        "ru": "Видеосервис отклонил запрос{detail}.",
    },
    "reason_not_submitted": {
        "en": "So many videos were asked for that yours was not sent to the video service in "
        "time; no credits were spent. Please send /video again.",
        "ru": "Запросов было так много, что ваш не успел уйти на видеосервис; кредиты не "
        "потрачены. Отправьте /video ещё раз.",
    },
    "reason_already_exists": {
        "en": "The video service says a video of this track already exists, but did not say "
        "where. Try another track.",
        "ru": "Видеосервис говорит, что видео для этого трека уже есть, но не говорит, где оно. "
        "Попробуйте другой трек.",
    },
    "admin_alert_credits": {
        "en": "⚠️ The video service reports insufficient credits. Jobs fail until you top up. "
        "Provider said: {detail}",
        "ru": "⚠️ Видеосервис сообщает, что кредиты закончились. Задачи не выполняются, пока "
        "вы не пополните баланс. Ответ сервиса: {detail}",
    },
    "admin_alert_unauthorized": {
        "en": "⚠️ The video service refused MUSIC_API_KEY. Check the key. Provider said: {detail}",
        "ru": "⚠️ Видеосервис не принял MUSIC_API_KEY. Проверьте ключ. Ответ сервиса: {detail}",
    },
    "reason_internal": {
        "en": "Something went wrong on my side; the bot owner has been told.",
        "ru": "Что-то пошло не так с моей стороны; владелец бота уже в курсе.",
    },
    "caption": {
        "en": "🎬 {headline}\nLink valid until {expiry} (UTC)",
        "ru": "🎬 {headline}\nСсылка действует до {expiry} (UTC)",
    },
    "caption_author": {
        "en": "{author} — track {audio_id}",
        "ru": "{author} — трек {audio_id}",
    },
    "caption_author_title": {
        "en": "{author} — {title}",
        "ru": "{author} — {title}",
    },
    "caption_track": {
        "en": "Track {audio_id}",
        "ru": "Трек {audio_id}",
    },
    "video_link_no_rights": {
        "en": "🎬 {headline}\nI may not send videos in this chat; download it: {url}\n"
        "Link valid until {expiry} (UTC)",
        "ru": "🎬 {headline}\nМне нельзя отправлять видео в этот чат; скачайте его: {url}\n"
        "Ссылка действует до {expiry} (UTC)",
    },
    "video_link": {
        "en": "🎬 {headline}\nThe video is too large to post here; download it: {url}\n"
        "Link valid until {expiry} (UTC)",
        "ru": "🎬 {headline}\nВидео слишком большое для отправки сюда; скачайте его: {url}\n"
        "Ссылка действует до {expiry} (UTC)",
    },
    "no_jobs": {
        "en": "No videos in this chat yet. Send /video <taskId> <audioId> to make one.",
        "ru": "В этом чате ещё нет видео. Отправьте /video <taskId> <audioId>.",
    },
    "button_check_status": {
        "en": "🔄 Check status",
        "ru": "🔄 Проверить статус",
    },
    "status_line": {
        "en": "Job #{job_id} · {task_id} / {audio_id}\n{state}",
        "ru": "Задача #{job_id} · {task_id} / {audio_id}\n{state}",
    },
    # --- history: /status [job], /list, Check status button (add keys below) ---
    "history_card": {
        "en": "Job #{job_id} · {track}{extras}\n{state}",
        "ru": "Задача #{job_id} · {track}{extras}\n{state}",
    },
    "history_author": {
        "en": "\nAuthor: {author}",
        "ru": "\nАвтор: {author}",
    },
    "history_domain": {
        "en": "\nWatermark: {domain}",
        "ru": "\nВодяной знак: {domain}",
    },
    "history_usage_status": {
        "en": "Usage: /status [job number], e.g. /status 12",
        "ru": "Формат: /status [номер задачи], напр. /status 12",
    },
    "history_no_such_job": {
        "en": "There is no job #{job_id} in this chat. /list shows this chat's videos.",
        "ru": "В этом чате нет задачи #{job_id}. /list покажет видео этого чата.",
    },
    "history_not_found": {
        "en": "That job was not found in this chat.",
        "ru": "Эта задача в этом чате не найдена.",
    },
    "history_list_header": {
        "en": "🎬 This chat's videos {first}–{last} of {total}, newest first. "
        "Tap a finished one to get it again.",
        "ru": "🎬 Видео этого чата: {first}–{last} из {total}, сначала новые. "
        "Нажмите на готовое, чтобы получить его снова.",
    },
    "history_checking": {
        "en": "Checking…",
        "ru": "Проверяю…",
    },
    "delivery_gave_up_link": {
        "en": "🎬 {headline}\nI kept failing to post video #{job_id} here, so here is its link"
        " instead: {url}\nLink valid until {expiry} (UTC)",
        "ru": "🎬 {headline}\nНе получилось отправить видео #{job_id} сюда, вот ссылка на него:"
        " {url}\nСсылка действует до {expiry} (UTC)",
    },
    "delivery_gave_up": {
        "en": "🎬 {headline}\nI kept failing to post video #{job_id} here, and the provider's"
        " link to it has expired. Please make it again with /video.",
        "ru": "🎬 {headline}\nНе получилось отправить видео #{job_id} сюда, а ссылка"
        " провайдера на него уже истекла. Создайте его заново командой /video.",
    },
    "history_resend_caption": {
        "en": "🎬 {headline}",
        "ru": "🎬 {headline}",
    },
    "history_link_expired": {
        "en": "This video was too large to post here and its download link has expired.",
        "ru": "Это видео было слишком большим для отправки сюда, а ссылка на него истекла.",
    },
    # --- picker: /video <taskId> track buttons (add keys below) ---
    "picker_choose": {
        "en": "🎵 Music task {task_id}: tap a track to make its video.{extras}",
        "ru": "🎵 Музыкальная задача {task_id}: нажмите на трек, чтобы сделать видео.{extras}",
    },
    "picker_author": {
        "en": "\nSignature: {author}",
        "ru": "\nПодпись: {author}",
    },
    "picker_untitled": {
        "en": "Track {number}",
        "ru": "Трек {number}",
    },
    "picker_chosen": {
        "en": "✅ Chosen: {label}",
        "ru": "✅ Выбран трек: {label}",
    },
    "picker_pending": {
        "en": "⏳ Music task {task_id} is still generating. Try /video {task_id} again in a "
        "minute.",
        "ru": "⏳ Музыкальная задача {task_id} ещё генерируется. Повторите /video {task_id} "
        "через минуту.",
    },
    "picker_failed": {
        "en": "❌ Music task {task_id} failed, so it has no tracks to make a video of{detail}. "
        "Generate the music again and send its new taskId.",
        "ru": "❌ Музыкальная задача {task_id} завершилась ошибкой, и треков для видео в ней нет"
        "{detail}. Сгенерируйте музыку заново и пришлите новый taskId.",
    },
    "picker_no_tracks": {
        "en": "Music task {task_id} has no finished tracks I can offer. Try again in a minute, "
        "or send /video {task_id} <audioId>.",
        "ru": "В музыкальной задаче {task_id} нет готовых треков, которые я мог бы предложить. "
        "Попробуйте через минуту или отправьте /video {task_id} <audioId>.",
    },
    "picker_not_found": {
        "en": "I couldn't find music task {task_id}. Check the taskId: it is the id of your "
        "music generation task.",
        "ru": "Я не нашёл музыкальную задачу {task_id}. Проверьте taskId: это id вашей задачи "
        "генерации музыки.",
    },
    "picker_credits": {
        "en": "The music service says the bot's account is out of credits — please let the bot "
        "owner know.",
        "ru": "Музыкальный сервис сообщает, что у бота закончились кредиты — сообщите, "
        "пожалуйста, владельцу бота.",
    },
    "picker_unauthorized": {
        "en": "The music service refused the bot's key — please let the bot owner know.",
        "ru": "Музыкальный сервис не принял ключ бота — сообщите, пожалуйста, владельцу бота.",
    },
    "picker_unavailable": {
        "en": "The music service didn't give me the track list just now. Please try again in a "
        "few minutes.",
        "ru": "Музыкальный сервис сейчас не отдал список треков. Попробуйте через несколько минут.",
    },
    "picker_rejected": {
        "en": "The music service refused to list the tracks of {task_id}{detail}.",
        "ru": "Музыкальный сервис отказался показать треки задачи {task_id}{detail}.",
    },
    "picker_expired": {
        "en": "This track list is no longer available; send /video <taskId> again.",
        "ru": "Этот список треков больше недоступен; отправьте /video <taskId> ещё раз.",
    },
    "picker_slow_down": {
        "en": "⏳ That is a lot of track lists in a row. Please wait {seconds} s before asking "
        "for another one.",
        "ru": "⏳ Слишком много списков треков подряд. Подождите {seconds} с, прежде чем "
        "запрашивать следующий.",
    },
    # --- settings: /author, /domain, /credits, command menu (add keys below) ---
    "settings_summary": {
        "en": "This chat's defaults:\n✍️ Author: {author}\n🌐 Watermark: {domain}",
        "ru": "Настройки этого чата:\n✍️ Автор: {author}\n🌐 Водяной знак: {domain}",
    },
    "settings_not_set": {
        "en": "not set",
        "ru": "не задан",
    },
    "settings_bot_default": {
        "en": "{value} (the bot's default)",
        "ru": "{value} (по умолчанию бота)",
    },
    "settings_author_saved": {
        "en": "✅ Videos made in this chat are now signed “{value}” unless /video names an author.",
        "ru": "✅ Видео этого чата теперь подписываются «{value}», если в /video не указан автор.",
    },
    "settings_author_cleared": {
        "en": "✅ This chat's default author is cleared.",
        "ru": "✅ Автор по умолчанию для этого чата убран.",
    },
    "settings_domain_saved": {
        "en": "✅ Videos made in this chat now carry the watermark “{value}”.",
        "ru": "✅ Видео этого чата теперь получают водяной знак «{value}».",
    },
    "settings_domain_cleared": {
        "en": "✅ This chat's watermark is cleared.",
        "ru": "✅ Водяной знак этого чата убран.",
    },
    "settings_author_hint": {
        "en": "Set it with /author <name> (at most {limit} characters); clear it with /author -.",
        "ru": "Задать: /author <имя> (не больше {limit} символов); убрать: /author -.",
    },
    "settings_domain_hint": {
        "en": "Set it with /domain <name> (at most {limit} characters); clear it with /domain -.",
        "ru": "Задать: /domain <имя> (не больше {limit} символов); убрать: /domain -.",
    },
    "settings_domain_too_long": {
        "en": "The watermark is {length} characters long; the limit is {limit}. Please shorten it.",
        "ru": "Водяной знак длиной {length} символов, а можно не больше {limit}. Сократите его.",
    },
    "settings_admins_only": {
        "en": "Only this group's admins can change its defaults.",
        "ru": "Менять настройки этой группы могут только её администраторы.",
    },
    "settings_admin_check_failed": {
        "en": "I couldn't check whether you are an admin of this group. Please try again later.",
        "ru": "Не удалось проверить, администратор ли вы в этой группе. Попробуйте позже.",
    },
    "credits_admins_only": {
        "en": "Sorry, only the bot's admins can see its credits.",
        "ru": "Извините, кредиты бота видны только его администраторам.",
    },
    "credits_remaining": {
        "en": "💳 The video service has {credits} credits left.",
        "ru": "💳 На видеосервисе осталось кредитов: {credits}.",
    },
    "credits_out": {
        "en": "💳 The video service says the account is out of credits{detail}.",
        "ru": "💳 Видеосервис сообщает, что кредиты закончились{detail}.",
    },
    "credits_unauthorized": {
        "en": "The video service refused MUSIC_API_KEY{detail}. Check the key.",
        "ru": "Видеосервис не принял MUSIC_API_KEY{detail}. Проверьте ключ.",
    },
    "credits_unavailable": {
        "en": "The video service didn't tell me the credits just now. Please try again later.",
        "ru": "Видеосервис сейчас не сообщил кредиты. Попробуйте позже.",
    },
    "credits_rejected": {
        "en": "The video service refused to tell the credits{detail}.",
        "ru": "Видеосервис отказался сообщить кредиты{detail}.",
    },
    "menu_start": {
        "en": "What this bot does",
        "ru": "Что умеет этот бот",
    },
    "menu_help": {
        "en": "Commands with examples",
        "ru": "Команды с примерами",
    },
    "menu_video": {
        "en": "Make a video: /video <taskId> [audioId] [author]",
        "ru": "Сделать видео: /video <taskId> [audioId] [автор]",
    },
    "menu_render": {
        "en": "Render it myself: /render <taskId> [audioId] [9:16|1:1|16:9]",
        "ru": "Отрендерить самому: /render <taskId> [audioId] [9:16|1:1|16:9]",
    },
    "menu_teaser": {
        "en": "A 15–30 s vertical chorus clip: /teaser <taskId> <audioId>",
        "ru": "Вертикальный клип с припевом на 15–30 с: /teaser <taskId> <audioId>",
    },
    "menu_lyrics": {
        "en": "Karaoke lyrics in this chat's renders: on, off, sweep or pop",
        "ru": "Караоке-текст в видео этого чата: on, off, sweep или pop",
    },
    "menu_style": {
        "en": "How this chat's renders move: pulse, bars or calm",
        "ru": "Как видео этого чата движутся: pulse, bars или calm",
    },
    "menu_status": {
        "en": "How is my latest video doing?",
        "ru": "Как дела у последнего видео?",
    },
    "menu_list": {
        "en": "This chat's recent videos",
        "ru": "Недавние видео этого чата",
    },
    "menu_author": {
        "en": "This chat's default signature",
        "ru": "Подпись по умолчанию для этого чата",
    },
    "menu_domain": {
        "en": "This chat's watermark",
        "ru": "Водяной знак этого чата",
    },
    "menu_autopost": {
        "en": "Also post this chat's videos to your channel",
        "ru": "Публиковать видео этого чата и в ваш канал",
    },
    # --- access: allowed lists, quota, in-flight (add keys below) ---
    "not_allowed": {
        "en": "Sorry, this bot is private — ask its owner for access.",
        "ru": "Извините, это частный бот — попросите доступ у его владельца.",
    },
    "already_in_flight": {
        "en": "I'm already making this video (job #{job_id}) — it will appear here.",
        "ru": "Я уже делаю это видео (задача #{job_id}) — оно появится здесь.",
    },
    "quota_exceeded": {
        "en": "You've made {limit} videos in the last hour, the hourly limit. "
        "Try again after {time} UTC.",
        "ru": "За последний час вы сделали {limit} видео — это лимит. "
        "Попробуйте снова после {time} UTC.",
    },
    # --- distribution: auto-post to a channel, sharing (add keys below) ---
    "button_share": {
        "en": "↗️ Share",
        "ru": "↗️ Поделиться",
    },
    "autopost_usage": {
        "en": "/autopost @channel — also post every video of this chat to your channel\n"
        "/autopost -100… — the same, by the channel's id (private channels)\n"
        "/autopost off — stop\n"
        "/autopost caption <text> — the post's caption; {{title}}, {{author}} and {{tags}} "
        "are filled in (/autopost caption - restores the default)\n"
        "/autopost live on|off — also post a live photo of each new track (its chorus loop "
        "with sound)",
        "ru": "/autopost @канал — также публиковать каждое видео этого чата в ваш канал\n"
        "/autopost -100… — то же по id канала (для закрытых каналов)\n"
        "/autopost off — перестать\n"
        "/autopost caption <текст> — подпись к посту; {{title}}, {{author}} и {{tags}} "
        "подставляются (/autopost caption - вернёт подпись по умолчанию)\n"
        "/autopost live on|off — также публиковать живое фото каждого нового трека (цикл "
        "с припева со звуком)",
    },
    "autopost_status_live": {
        "en": "Each new track also gets a live photo there.",
        "ru": "Каждый новый трек также получает там живое фото.",
    },
    "autopost_live_on": {
        "en": "✅ Live photos on: each new track posted to the channel also gets a live photo "
        "(its chorus loop with sound).",
        "ru": "✅ Живые фото включены: каждый новый трек в канале также получит живое фото "
        "(цикл с припева со звуком).",
    },
    "autopost_live_off": {
        "en": "Live photos off: only the videos are posted to the channel.",
        "ru": "Живые фото выключены: в канал публикуются только видео.",
    },
    "autopost_status_off": {
        "en": "Auto-post is off in this chat.",
        "ru": "Автопубликация в этом чате выключена.",
    },
    "autopost_status_on": {
        "en": "Every video delivered here is also posted to {channel}.",
        "ru": "Каждое видео из этого чата также публикуется в {channel}.",
    },
    "autopost_caption_preview": {
        "en": "Caption template:\n{template}",
        "ru": "Шаблон подписи:\n{template}",
    },
    "autopost_linked": {
        "en": "✅ Linked: from now on every video delivered here is also posted to {channel}.",
        "ru": "✅ Готово: теперь каждое видео из этого чата также публикуется в {channel}.",
    },
    "autopost_unlinked": {
        "en": "Auto-post is off: videos stay in this chat only.",
        "ru": "Автопубликация выключена: видео остаются только в этом чате.",
    },
    "autopost_caption_saved": {
        "en": "Caption template saved.",
        "ru": "Шаблон подписи сохранён.",
    },
    "autopost_caption_reset": {
        "en": "Caption template reset to the default.",
        "ru": "Шаблон подписи сброшен на стандартный.",
    },
    "autopost_caption_too_long": {
        "en": "The caption template is {length} characters long; the limit is {limit}.",
        "ru": "Шаблон подписи длиной {length} символов, а можно не больше {limit}.",
    },
    "autopost_where": {
        "en": "Use /autopost in a private chat with me or in a group.",
        "ru": "Используйте /autopost в личном чате со мной или в группе.",
    },
    "autopost_anonymous": {
        "en": "Please send /autopost from your own account, not anonymously: I need to check "
        "that you are an admin of the channel.",
        "ru": "Отправьте /autopost от своего имени, не анонимно: мне нужно проверить, что вы "
        "администратор канала.",
    },
    "autopost_admins_only": {
        "en": "Only this group's admins can set up auto-post.",
        "ru": "Настраивать автопубликацию могут только администраторы этой группы.",
    },
    "autopost_channel_not_found": {
        "en": "I can't find the channel {channel}. Add me to it as an administrator first "
        "(for a private channel, use its -100… id).",
        "ru": "Не нахожу канал {channel}. Сначала добавьте меня в него администратором "
        "(для закрытого канала укажите его id -100…).",
    },
    "autopost_not_a_channel": {
        "en": "{channel} is not a channel. Auto-post works with channels only.",
        "ru": "{channel} — не канал. Автопубликация работает только с каналами.",
    },
    "autopost_bot_not_admin": {
        "en": "I'm not an administrator of {channel}. Add me as an admin with the right to "
        "post messages, then send the command again.",
        "ru": "Я не администратор {channel}. Добавьте меня администратором с правом "
        "публиковать сообщения и повторите команду.",
    },
    "autopost_bot_cannot_post": {
        "en": "I'm an administrator of {channel} but may not post messages there. Turn on "
        '"Post messages" for me in the channel\'s admin settings.',
        "ru": "Я администратор {channel}, но без права публиковать сообщения. Включите мне "
        "«Публикация сообщений» в настройках администраторов канала.",
    },
    "autopost_user_not_admin": {
        "en": "Only the owner or an administrator of {channel} can link it, and Telegram says "
        "you are neither.",
        "ru": "Привязать {channel} может только его владелец или администратор, а по данным "
        "Telegram вы ни то, ни другое.",
    },
    "autopost_check_failed": {
        "en": "I couldn't check {channel} with Telegram just now. Please try again later.",
        "ru": "Не удалось проверить {channel} в Telegram. Попробуйте позже.",
    },
    "autopost_rights_lost": {
        "en": "⚠️ I can no longer post to {channel} (I was removed or lost the right to post), "
        "so auto-post is now off. Add me back as an admin and send /autopost again.",
        "ru": "⚠️ Я больше не могу публиковать в {channel} (меня удалили или лишили права "
        "публикации), поэтому автопубликация выключена. Верните меня администратором и "
        "снова отправьте /autopost.",
    },
    "autopost_default_title": {
        "en": "Track {audio_id}",
        "ru": "Трек {audio_id}",
    },
    "share_caption": {
        "en": "🎬 {headline}",
        "ru": "🎬 {headline}",
    },
    "share_description": {
        "en": "Video #{job_id}, made {date}",
        "ru": "Видео #{job_id}, сделано {date}",
    },
    # --- our own renderer: /render, audio uploads, format buttons, fallback (issue 10) ---
    "usage_render": {
        "en": "Usage: /render <taskId> <audioId> [9:16|1:1|16:9] [author]\n"
        "e.g. /render 5c79be8e e231cadc7dc 1:1 DJ Ann\n"
        "Or send me an audio file (in a group: reply to one with /render [format]).",
        "ru": "Формат: /render <taskId> <audioId> [9:16|1:1|16:9] [автор]\n"
        "напр. /render 5c79be8e e231cadc7dc 1:1 DJ Ann\n"
        "Или пришлите аудиофайл (в группе — ответьте на него командой /render [формат]).",
    },
    "render_status_started": {
        "en": "🎬 Rendering the video myself…",
        "ru": "🎬 Рендерю видео сам…",
    },
    "render_status_progress": {
        "en": "🎬 Rendering the video myself… {percent}%",
        "ru": "🎬 Рендерю видео сам… {percent}%",
    },
    "render_status_queued": {
        "en": "⏳ Queued for rendering: {ahead} ahead of yours.",
        "ru": "⏳ В очереди на рендер: перед вашим ещё {ahead}.",
    },
    "status_fallback": {
        "en": "⚠️ The video service couldn't make this video, so I'm rendering it myself…",
        "ru": "⚠️ Видеосервис не смог сделать это видео, поэтому я рендерю его сам…",
    },
    "render_caption": {
        "en": "🎬 {headline}\nRendered by this bot ({video_format}).",
        "ru": "🎬 {headline}\nОтрендерено этим ботом ({video_format}).",
    },
    "render_caption_fallback": {
        "en": "🎬 {headline}\nThe video service couldn't make it, so this bot rendered it "
        "locally ({video_format}).",
        "ru": "🎬 {headline}\nВидеосервис не смог его сделать, поэтому бот отрендерил его "
        "сам ({video_format}).",
    },
    "reason_render_failed": {
        "en": "I could not render this video{detail}. Please try again later.",
        "ru": "Не удалось отрендерить это видео{detail}. Попробуйте позже.",
    },
    "reason_track_too_long": {
        "en": "This track is too long to fit into a 50 MB video{detail}.",
        "ru": "Трек слишком длинный, чтобы уложиться в видео 50 МБ{detail}.",
    },
    "reason_source_unavailable": {
        "en": "I could not get the track's audio{detail}.",
        "ru": "Не удалось получить аудио трека{detail}.",
    },
    "video_refused_rights": {
        "en": "⚠️ I may not send videos in this chat, so “{headline}” cannot be posted. An admin "
        "can allow me to send videos; then ask again.",
        "ru": "⚠️ Мне нельзя отправлять видео в этот чат, поэтому «{headline}» не отправить. "
        "Админ может разрешить мне отправлять видео — тогда попросите ещё раз.",
    },
    "video_refused_too_big": {
        "en": "⚠️ Telegram refused the video “{headline}”: the file is too big.",
        "ru": "⚠️ Telegram не принял видео «{headline}»: файл слишком большой.",
    },
    "video_refused_file_id": {
        "en": "⚠️ Telegram no longer knows the video “{headline}”. Please ask for it again.",
        "ru": "⚠️ Telegram больше не знает видео «{headline}». Попросите его ещё раз.",
    },
    "video_refused_content": {
        "en": "⚠️ Telegram refused the video “{headline}”.",
        "ru": "⚠️ Telegram не принял видео «{headline}».",
    },
    "fallback_root_credits": {
        "en": "The video service is out of credits — the bot owner has been told. I tried to "
        "render the video myself instead: {reason}",
        "ru": "На видеосервисе закончились кредиты — владелец бота уже в курсе. Я попробовал "
        "отрендерить видео сам: {reason}",
    },
    "fallback_root_provider_failed": {
        "en": "The video service could not make this video{detail}. I tried to render it myself "
        "instead: {reason}",
        "ru": "Видеосервис не смог сделать это видео{detail}. Я попробовал отрендерить его сам: "
        "{reason}",
    },
    "reason_cancelled": {
        "en": "Cancelled.",
        "ru": "Отменено.",
    },
    "button_cancel": {
        "en": "✖ Cancel",
        "ru": "✖ Отменить",
    },
    "render_cancel_denied": {
        "en": "Only the person who asked for this video or a chat admin can cancel it.",
        "ru": "Отменить может только тот, кто заказал видео, или админ чата.",
    },
    "render_cancel_done": {
        "en": "Cancelled.",
        "ru": "Отменено.",
    },
    "render_cancel_too_late": {
        "en": "This video is already finished.",
        "ru": "Это видео уже готово.",
    },
    "render_starting": {
        "en": "Rendering {video_format}…",
        "ru": "Рендерю {video_format}…",
    },
    "audio_too_big": {
        "en": "This file is {size} MB, but bots can only download files up to {limit} MB "
        "from Telegram. Please send a smaller file (e.g. an MP3 at 192 kbps).",
        "ru": "Файл весит {size} МБ, а боты могут скачивать из Telegram файлы только до "
        "{limit} МБ. Пришлите файл поменьше (например, MP3 192 кбит/с).",
    },
    "render_reply_to_audio": {
        "en": "Reply to an audio file with /render [9:16|1:1|16:9] to make its video.",
        "ru": "Ответьте на аудиофайл командой /render [9:16|1:1|16:9], чтобы сделать видео.",
    },
    # --- karaoke lyrics and the chorus teaser (issue 11) ---
    "lyrics_state_on": {
        "en": "🎤 Karaoke lyrics are on in this chat: renders of vocal tracks show the sung "
        "words, {style}. Turn them off with /lyrics off (or add nolyrics to one /render). "
        "Styles: /lyrics sweep, /lyrics pop.",
        "ru": "🎤 Караоке-текст в этом чате включён: в рендерах треков с вокалом видны "
        "слова, {style}. Выключить: /lyrics off (или добавьте nolyrics к одной команде "
        "/render). Стили: /lyrics sweep, /lyrics pop.",
    },
    "lyrics_state_off": {
        "en": "🎤 Karaoke lyrics are off in this chat. Turn them on with /lyrics on "
        "({style}), /lyrics sweep or /lyrics pop.",
        "ru": "🎤 Караоке-текст в этом чате выключен. Включить: /lyrics on ({style}), "
        "/lyrics sweep или /lyrics pop.",
    },
    "lyric_style_sweep": {
        "en": "each word filling with colour as it is sung (sweep)",
        "ru": "каждое слово заливается цветом, пока его поют (sweep)",
    },
    "lyric_style_pop": {
        "en": "the word being sung growing bigger (pop)",
        "ru": "слово, которое поют, становится крупнее (pop)",
    },
    "lyrics_saved_on": {
        "en": "✅ Renders made in this chat now show the lyrics.",
        "ru": "✅ Рендеры этого чата теперь показывают текст песни.",
    },
    "lyrics_saved_off": {
        "en": "✅ Renders made in this chat no longer show the lyrics.",
        "ru": "✅ Рендеры этого чата больше не показывают текст песни.",
    },
    "lyrics_saved_sweep": {
        "en": "✅ Renders made in this chat now show the lyrics, each word filling with colour "
        "as it is sung.",
        "ru": "✅ Рендеры этого чата теперь показывают текст песни: каждое слово заливается "
        "цветом, пока его поют.",
    },
    "lyrics_saved_pop": {
        "en": "✅ Renders made in this chat now show the lyrics, the word being sung growing "
        "bigger: sung words gold, the next ones white.",
        "ru": "✅ Рендеры этого чата теперь показывают текст песни: слово, которое поют, "
        "становится крупнее, спетые слова — золотые, следующие — белые.",
    },
    # --- looks (issue 18) ---
    "look_state": {
        "en": "🎨 This chat's look: {look}. Tap one to change it (or /style <name>):\n{looks}",
        "ru": "🎨 Вид рендеров этого чата: {look}. Нажмите, чтобы сменить (или /style <имя>):"
        "\n{looks}",
    },
    "look_line_pulse": {
        "en": "pulse — the cover pulses on the beats, over the waveform",
        "ru": "pulse — обложка пульсирует в такт, под ней волна звука",
    },
    "look_line_bars": {
        "en": "bars — the cover pulses on the beats, over spectrum bars",
        "ru": "bars — обложка пульсирует в такт, под ней столбики спектра",
    },
    "look_line_calm": {
        "en": "calm — a still cover over the waveform",
        "ru": "calm — неподвижная обложка, под ней волна звука",
    },
    "look_name_pulse": {"en": "✅ Look: pulse", "ru": "✅ Вид: pulse"},
    "look_name_bars": {"en": "✅ Look: bars", "ru": "✅ Вид: bars"},
    "look_name_calm": {"en": "✅ Look: calm", "ru": "✅ Вид: calm"},
    "look_saved_pulse": {
        "en": "✅ Renders made in this chat now pulse on the beats, over the waveform (pulse).",
        "ru": "✅ Рендеры этого чата теперь пульсируют в такт, под обложкой волна звука (pulse).",
    },
    "look_saved_bars": {
        "en": "✅ Renders made in this chat now pulse on the beats, over spectrum bars (bars).",
        "ru": "✅ Рендеры этого чата теперь пульсируют в такт, под обложкой столбики спектра "
        "(bars).",
    },
    "look_saved_calm": {
        "en": "✅ Renders made in this chat now show a still cover over the waveform (calm).",
        "ru": "✅ Рендеры этого чата теперь показывают неподвижную обложку и волну звука (calm).",
    },
    "usage_style": {
        "en": "Usage: /style pulse, /style bars, /style calm, or /style to see the look.",
        "ru": "Формат: /style pulse, /style bars, /style calm или /style, чтобы увидеть вид.",
    },
    "usage_lyrics": {
        "en": "Usage: /lyrics on, /lyrics off, /lyrics sweep, /lyrics pop, or /lyrics to see "
        "the setting.",
        "ru": "Формат: /lyrics on, /lyrics off, /lyrics sweep, /lyrics pop или /lyrics, чтобы "
        "увидеть настройку.",
    },
    "usage_teaser": {
        "en": "Usage: /teaser <taskId> <audioId> [nolyrics]\n"
        "A 15–30 s vertical clip from the chorus, e.g. /teaser 5c79be8e e231cadc7dc",
        "ru": "Формат: /teaser <taskId> <audioId> [nolyrics]\n"
        "Вертикальный ролик 15–30 с с припева, напр. /teaser 5c79be8e e231cadc7dc",
    },
    "button_teaser": {
        "en": "✂️ Teaser",
        "ru": "✂️ Тизер",
    },
    "teaser_starting": {
        "en": "Making the chorus teaser…",
        "ru": "Делаю тизер с припева…",
    },
    "render_caption_teaser": {
        "en": "{video_format}, chorus teaser",
        "ru": "{video_format}, тизер с припева",
    },
    # --- the sing-along render: /karaoke and its button (issue 19) ---
    "usage_karaoke": {
        "en": "Usage: /karaoke <taskId> <audioId> [9:16|1:1|16:9]\n"
        "A sing-along video: the track without its vocals, with the lyrics and a 3-2-1 "
        "count-in, e.g. /karaoke 5c79be8e e231cadc7dc",
        "ru": "Формат: /karaoke <taskId> <audioId> [9:16|1:1|16:9]\n"
        "Видео для караоке: трек без вокала, с текстом и отсчётом 3-2-1, "
        "напр. /karaoke 5c79be8e e231cadc7dc",
    },
    "karaoke_unsupported": {
        "en": "🎤 This music service has no vocal separation, so I can't make a karaoke "
        "version. Nothing was spent.",
        "ru": "🎤 У этого музыкального сервиса нет отделения вокала, поэтому караоке-версию "
        "не сделать. Ничего не потрачено.",
    },
    "karaoke_upload": {
        "en": "🎤 Karaoke needs a track of the music service (its vocals are removed there); "
        "uploaded files can't be made into one.",
        "ru": "🎤 Для караоке нужен трек музыкального сервиса (вокал отделяется там); "
        "из загруженного файла его не сделать.",
    },
    "button_karaoke": {
        "en": "🎤 Karaoke",
        "ru": "🎤 Караоке",
    },
    "karaoke_starting": {
        "en": "Making the karaoke version…",
        "ru": "Делаю караоке-версию…",
    },
    "loop_status_started": {
        "en": "🔁 Making the Canvas loop…",
        "ru": "🔁 Делаю Canvas-луп…",
    },
    "live_status_started": {
        "en": "✨ Making the live photo…",
        "ru": "✨ Делаю живое фото…",
    },
    "status_delivered_loop": {
        "en": "✅ Done! Your loop is posted.",
        "ru": "✅ Готово! Луп отправлен.",
    },
    "status_delivered_live": {
        "en": "✅ Done! Your live photo is posted.",
        "ru": "✅ Готово! Живое фото отправлено.",
    },
    "karaoke_status_started": {
        "en": "🎤 Making the karaoke version: removing the vocals, then rendering…",
        "ru": "🎤 Делаю караоке-версию: убираю вокал, потом рендерю…",
    },
    "render_caption_karaoke": {
        "en": "{video_format} karaoke, no vocals",
        "ru": "{video_format}, караоке без вокала",
    },
    "reason_karaoke_failed": {
        "en": "🎤 The music service could not remove the vocals from this track{detail}, so "
        "there is no karaoke version. Please try again later.",
        "ru": "🎤 Музыкальный сервис не смог убрать вокал из этого трека{detail}, поэтому "
        "караоке-версии нет. Попробуйте позже.",
    },
    "reason_karaoke_credits": {
        "en": "🎤 The music service is out of credits for removing the vocals — the bot owner "
        "has to top it up. No karaoke version this time.",
        "ru": "🎤 На музыкальном сервисе закончились кредиты для отделения вокала — владельцу "
        "бота нужно их пополнить. Караоке-версии пока не будет.",
    },
    "reason_karaoke_no_lyrics": {
        "en": "🎤 This track has no sung words (an instrumental, or the service has no lyrics "
        "for it), so there is nothing to sing along to.",
        "ru": "🎤 В этом треке нет слов (инструментал, или у сервиса нет для него текста), "
        "поэтому подпевать нечему.",
    },
    "menu_karaoke": {
        "en": "A sing-along video without vocals: /karaoke <taskId> <audioId>",
        "ru": "Видео для караоке без вокала: /karaoke <taskId> <audioId>",
    },
    # --- lyric corrections (issue 19, docs/architecture.md §9.5) ---
    "usage_lyrics_edit": {
        "en": "Usage: /lyrics edit <taskId> <audioId> to fix a track's words, "
        "/lyrics reset <taskId> <audioId> to go back to the provider's.",
        "ru": "Формат: /lyrics edit <taskId> <audioId> — исправить текст трека, "
        "/lyrics reset <taskId> <audioId> — вернуть текст провайдера.",
    },
    "lyrics_edit_intro": {
        "en": "✏️ The words of {track}, line by line ({count} lines). Reply to this message "
        "(or to the list) with your corrections: the whole list again, or only the changed "
        "lines as “N: new text”. To add a second line under each line (a translation, a "
        "romanization), add a line --- and then the second lines numbered the same way. Every "
        "line keeps its timing. A long list may go in two messages.",
        "ru": "✏️ Текст {track} построчно ({count} строк). Ответьте на это сообщение (или на "
        "список) исправлениями: весь список целиком или только изменённые строки в виде "
        "«N: новый текст». Чтобы добавить вторую строку под каждой (перевод, транслитерацию), "
        "добавьте строку --- и после неё вторые строки с теми же номерами. Время каждой строки "
        "сохраняется. Длинный список можно прислать двумя сообщениями.",
    },
    "lyrics_edit_seconds": {
        "en": "Second lines now:\n---\n{lines}",
        "ru": "Вторые строки сейчас:\n---\n{lines}",
    },
    "lyrics_edit_none": {
        "en": "This track has no lyrics to fix (an instrumental, or the provider has none).",
        "ru": "У этого трека нет текста для правки (инструментал или провайдер его не даёт).",
    },
    "lyrics_edit_unavailable": {
        "en": "I couldn't get this track's lyrics from the provider just now. Try again in a "
        "few minutes.",
        "ru": "Не удалось получить текст трека у провайдера. Попробуйте через несколько минут.",
    },
    "lyrics_edit_anonymous": {
        "en": "Fixing the words needs a reply from you: please send the command from your own "
        "account, not anonymously.",
        "ru": "Для правки текста нужен ваш ответ: отправьте команду от своего аккаунта, а не "
        "анонимно.",
    },
    "lyrics_edit_saved": {
        "en": "✅ Saved: {changes}. The next render of this track here uses them.",
        "ru": "✅ Сохранено: {changes}. Следующий рендер этого трека здесь их покажет.",
    },
    "lyrics_edit_second_count": {
        "en": "{changes}; {seconds} second lines",
        "ru": "{changes}; вторых строк: {seconds}",
    },
    "lyrics_edit_changed": {
        "en": "lines {lines} changed",
        "ru": "изменены строки {lines}",
    },
    "lyrics_edit_changed_one": {
        "en": "line {lines} changed",
        "ru": "изменена строка {lines}",
    },
    "lyrics_edit_unchanged": {
        "en": "no line changed",
        "ru": "строки не изменились",
    },
    "lyrics_edit_render_command": {
        "en": "Render it with /render {task_id} {audio_id} 9:16",
        "ru": "Отрендерить: /render {task_id} {audio_id} 9:16",
    },
    "button_lyrics_render": {
        "en": "🎬 Render again ({video_format})",
        "ru": "🎬 Отрендерить заново ({video_format})",
    },
    # One problem of a correction (bot/lyrics/edits.py PROBLEMS: the English must match).
    "lyrics_problem_line": {
        "en": "Line {line}: {reason}",
        "ru": "Строка {line}: {reason}",
    },
    "lyrics_problem_no_lines": {
        "en": "The reply has no lines.",
        "ru": "В ответе нет строк.",
    },
    "lyrics_problem_no_second_lines": {
        "en": "Nothing after the --- line: add the second lines.",
        "ru": "После строки --- ничего нет: добавьте вторые строки.",
    },
    "lyrics_problem_row_count": {
        "en": "Lines: {given} given, the lyrics have {count}. Send all {count}, or only the "
        "changed ones as 'N: text'.",
        "ru": "Строк прислано: {given}, а в тексте их {count}. Пришлите все {count} или только "
        "изменённые в виде «N: текст».",
    },
    "lyrics_problem_second_row_count": {
        "en": "Second lines: {given} given, the lyrics have {count}. Send all {count}, or only "
        "the changed ones as 'N: text'.",
        "ru": "Вторых строк прислано: {given}, а в тексте строк {count}. Пришлите все {count} "
        "или только нужные в виде «N: текст».",
    },
    "lyrics_problem_no_number": {
        "en": "No line number before “{row}” (write 'N: text').",
        "ru": "Нет номера строки перед «{row}» (пишите «N: текст»).",
    },
    "lyrics_problem_no_such_line": {
        "en": "there is no line {number} (the lyrics have lines 1–{count}).",
        "ru": "строки {number} нет (в тексте строки 1–{count}).",
    },
    "lyrics_problem_no_such_second_line": {
        "en": "there is no second line {number} (the lyrics have lines 1–{count}).",
        "ru": "второй строки {number} нет (в тексте строки 1–{count}).",
    },
    "lyrics_problem_unknown_line": {
        "en": "there is no line {number}.",
        "ru": "строки {number} нет.",
    },
    "lyrics_problem_twice": {
        "en": "given twice.",
        "ru": "указана дважды.",
    },
    "lyrics_problem_second_twice": {
        "en": "second line given twice.",
        "ru": "вторая строка указана дважды.",
    },
    "lyrics_problem_empty": {
        "en": "the new text is empty.",
        "ru": "новый текст пуст.",
    },
    "lyrics_problem_second_empty": {
        "en": "the second line text is empty.",
        "ru": "текст второй строки пуст.",
    },
    "lyrics_edit_failed": {
        "en": "Nothing saved:\n{problems}",
        "ru": "Ничего не сохранено:\n{problems}",
    },
    "lyrics_edit_send_rest": {
        "en": "If the list goes on, send the rest as one more message within 2 minutes.",
        "ru": "Если список не поместился, пришлите остаток ещё одним сообщением в течение 2 минут.",
    },
    "lyrics_reset_done": {
        "en": "Done: renders of this track here use the provider's words again.",
        "ru": "Готово: рендеры этого трека здесь снова используют текст провайдера.",
    },
    "lyrics_reset_none": {
        "en": "This track's words were not changed here: nothing to reset.",
        "ru": "Текст этого трека здесь не менялся: сбрасывать нечего.",
    },
    "button_lyrics": {
        "en": "✏️ Lyrics",
        "ru": "✏️ Текст",
    },
    "lyrics_edit_starting": {
        "en": "Sending the words…",
        "ru": "Отправляю текст…",
    },
    # --- Canvas loops and live photos (issue 20) ---
    "menu_loop": {
        "en": "A silent 3–8 s Spotify Canvas loop: /loop <taskId> <audioId>",
        "ru": "Беззвучный цикл 3–8 с для Spotify Canvas: /loop <taskId> <audioId>",
    },
    "usage_loop": {
        "en": "Usage: /loop <taskId> <audioId>\n"
        "A silent 3–8 s vertical loop from the chorus for Spotify Canvas, "
        "e.g. /loop 5c79be8e e231cadc7dc",
        "ru": "Формат: /loop <taskId> <audioId>\n"
        "Беззвучный вертикальный цикл 3–8 с с припева для Spotify Canvas, "
        "напр. /loop 5c79be8e e231cadc7dc",
    },
    "button_loop": {
        "en": "🔁 Loop",
        "ru": "🔁 Цикл",
    },
    "button_live": {
        "en": "✨ Live",
        "ru": "✨ Live",
    },
    "loop_starting": {
        "en": "Making the Canvas loop…",
        "ru": "Делаю цикл для Canvas…",
    },
    "live_starting": {
        "en": "Making the live photo…",
        "ru": "Делаю живое фото…",
    },
    "loop_caption": {
        "en": "🔁 {headline}\nSpotify Canvas loop: silent, 9:16, loops seamlessly. Upload it in "
        "Spotify for Artists → your track → Canvas.",
        "ru": "🔁 {headline}\nЦикл для Spotify Canvas: без звука, 9:16, без шва. Загрузите его в "
        "Spotify for Artists → ваш трек → Canvas.",
    },
    "live_caption": {
        "en": "✨ {headline}",
        "ru": "✨ {headline}",
    },
    "live_refused": {
        "en": "Telegram did not take the live photo ({reason}), so here comes the chorus "
        "teaser as a video instead.",
        "ru": "Telegram не принял живое фото ({reason}), поэтому вместо него пришлю тизер "
        "с припева видео.",
    },
    # --- render it here: guest mode (docs/architecture.md §10.4) ---
    "guest_usage": {
        "en": "Write @{bot} <taskId> <audioId> [9:16|1:1|16:9], or reply to an audio file "
        "with @{bot}, and I render the video right here.",
        "ru": "Напишите @{bot} <taskId> <audioId> [9:16|1:1|16:9] или ответьте на аудиофайл "
        "с @{bot} — и я отрендерю видео прямо здесь.",
    },
    "guest_usage_title": {
        "en": "How to render a video here",
        "ru": "Как отрендерить видео здесь",
    },
    "guest_no_audio": {
        "en": "I can't reach that audio file from here: send it to @{bot} in a private chat, "
        "or write @{bot} <taskId> <audioId>.",
        "ru": "Отсюда мне не достать этот аудиофайл: пришлите его @{bot} в личный чат или "
        "напишите @{bot} <taskId> <audioId>.",
    },
    "guest_refused_title": {
        "en": "Not now",
        "ru": "Не сейчас",
    },
    "guest_rendering": {
        "en": "🎬 Rendering {headline}… the video will appear right here.",
        "ru": "🎬 Рендерю {headline}… видео появится прямо здесь.",
    },
    "guest_rendering_untitled": {
        "en": "🎬 Rendering your video… it will appear right here.",
        "ru": "🎬 Рендерю ваше видео… оно появится прямо здесь.",
    },
    "guest_failed": {
        "en": "❌ {headline}: {reason}",
        "ru": "❌ {headline}: {reason}",
    },
    "guest_timed_out": {
        "en": "❌ {headline}: the video took too long. Please try again later.",
        "ru": "❌ {headline}: видео делалось слишком долго. Попробуйте позже.",
    },
    "guest_not_posted": {
        "en": "⚠️ {headline}: Telegram refused the video, so it cannot appear here.",
        "ru": "⚠️ {headline}: Telegram не принял видео, поэтому здесь его не будет.",
    },
    "guest_start_first": {
        "en": "🔒 Open @{bot} and press Start once, then summon me again: each video goes to "
        "your private chat with me first.",
        "ru": "🔒 Откройте @{bot} и один раз нажмите «Start», затем позовите меня снова: каждое "
        "видео сначала приходит вам в личный чат со мной.",
    },
    "guest_start_button": {
        "en": "Open @{bot}",
        "ru": "Открыть @{bot}",
    },
    # --- buttons no handler knows (stale or forged) ---
    "button_unavailable": {
        "en": "This button is no longer available.",
        "ru": "Эта кнопка больше не действует.",
    },
}

LANGUAGES: Final = ("en", "ru")


def language_for(language_code: str | None) -> str:
    """Russian for Russian-speaking users, English for the rest (docs/architecture.md §13.10)."""
    return "ru" if (language_code or "").lower().split("-")[0] == "ru" else "en"


def text(language: str, key: str, **values: object) -> str:
    """The sentence `key` in `language` (English when unknown), with `values` filled in."""
    entry = _CATALOGUE[key]
    return entry.get(language, entry["en"]).format(**values)


def has_text(key: str) -> bool:
    """Whether the catalogue has a sentence called `key`."""
    return key in _CATALOGUE
